//! Registry-style Markdown rendered from schemas: argument and attribute references
//! (required / optional / read-only, defaults, sensitivity, nested blocks and objects),
//! with the example and import text the caller supplies.
//!
//! Owns rendering only; which files exist and where examples come from is the caller's.

use std::fmt::Write;

use super::function::Signature;
use super::schema::{AttrType, Attribute, Block, Nesting, Schema};
use super::types::Type;
use super::value::Value;

/// What a page documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The provider block.
    Provider,
    /// A managed resource.
    Resource,
    /// A data source.
    DataSource,
}

/// Texts that come from outside the schema.
#[derive(Debug, Clone, Default)]
pub struct Extras<'a> {
    /// Example configuration (HCL).
    pub example: Option<&'a str>,
    /// Import commands (shell).
    pub import: Option<&'a str>,
    /// Name of the provider binary, for page titles.
    pub binary: &'a str,
}

fn front_matter(title: &str, description: &str) -> String {
    let first = description.split("\n\n").next().unwrap_or_default().trim();
    let mut out = format!("---\npage_title: \"{title}\"\nsubcategory: \"\"\ndescription: |-\n");
    for line in first.lines() {
        let _ = writeln!(out, "  {line}");
    }
    out.push_str("---\n\n");
    out
}

/// A type as the registry names it (`String`, `List of Number`, `Map of String`).
pub fn type_name(t: &Type) -> String {
    match t {
        Type::Bool => "Boolean".into(),
        Type::Number => "Number".into(),
        Type::String => "String".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(e) => format!("List of {}", type_name(e)),
        Type::Set(e) => format!("Set of {}", type_name(e)),
        Type::Map(e) => format!("Map of {}", type_name(e)),
        Type::Object(_) => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
    }
}

fn literal(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => "null".into(),
        other => format!("{other:?}"),
    }
}

/// The object type nested inside a type (for lists and maps of objects).
fn inner_object(t: &Type) -> Option<&std::collections::BTreeMap<String, Type>> {
    match t {
        Type::Object(attrs) => Some(attrs),
        Type::List(e) | Type::Set(e) | Type::Map(e) => inner_object(e),
        _ => None,
    }
}

/// Picks the attributes of one group of a schema section.
type GroupFilter = fn(&Attribute) -> bool;

/// Renders one block's attributes and nested blocks, appending nested sections to `later`.
fn render_block(block: &Block, anchor: &str, out: &mut String, later: &mut Vec<String>) {
    let groups: [(&str, GroupFilter); 3] = [
        ("Required", |a| a.required),
        ("Optional", |a| a.optional),
        ("Read-Only", |a| a.computed && !a.optional && !a.required),
    ];
    for (title, pick) in groups {
        let attrs: Vec<&Attribute> = block.attributes.iter().filter(|a| pick(a)).collect();
        let blocks: Vec<_> = block
            .blocks
            .iter()
            .filter(|b| match title {
                "Required" => b.min_items > 0,
                "Optional" => b.min_items == 0,
                _ => false,
            })
            .collect();
        if attrs.is_empty() && blocks.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {title}\n");
        for a in attrs {
            let ty = a.value_type();
            let mut kind = type_name(&ty);
            if a.sensitive {
                kind.push_str(", Sensitive");
            }
            if a.deprecated {
                kind.push_str(", Deprecated");
            }
            let mut line = format!("- `{}` ({kind})", a.name);
            let desc = a.description.trim();
            if !desc.is_empty() {
                let _ = write!(line, " {desc}");
            }
            if let Some(d) = &a.default {
                let _ = write!(line, " Defaults to `{}`.", literal(d));
            }
            if a.requires_replace {
                line.push_str(" Changing it forces a new resource.");
            }
            let nested_anchor = format!("{anchor}--{}", a.name);
            let nested = match &a.ty {
                AttrType::Nested { attributes, .. } => Some(render_attribute_objects(
                    &a.name,
                    &nested_anchor,
                    attributes
                        .iter()
                        .map(|x| (x.name.clone(), x.value_type(), x.description.clone()))
                        .collect(),
                )),
                AttrType::Plain(t) => inner_object(t).map(|attrs| {
                    render_attribute_objects(
                        &a.name,
                        &nested_anchor,
                        attrs
                            .iter()
                            .map(|(k, t)| (k.clone(), t.clone(), String::new()))
                            .collect(),
                    )
                }),
            };
            if let Some(section) = nested {
                let _ = write!(line, " (see [below for nested schema](#{nested_anchor}))");
                later.push(section);
            }
            let _ = writeln!(out, "{line}");
        }
        for b in blocks {
            let nested_anchor = format!("{anchor}--{}", b.name);
            let how = match b.nesting {
                Nesting::Single | Nesting::Group => "Block".to_owned(),
                Nesting::List => "Block List".to_owned(),
                Nesting::Set => "Block Set".to_owned(),
                Nesting::Map => "Block Map".to_owned(),
            };
            let mut limits = String::new();
            if b.min_items > 0 {
                let _ = write!(limits, ", Min: {}", b.min_items);
            }
            if b.max_items > 0 {
                let _ = write!(limits, ", Max: {}", b.max_items);
            }
            let desc = b.block.description.trim();
            let _ = writeln!(
                out,
                "- `{}` ({how}{limits}) {desc} (see [below for nested schema](#{nested_anchor}))",
                b.name
            );
            let mut section = format!(
                "<a id=\"{nested_anchor}\"></a>\n### Nested Schema for `{}`\n\n",
                b.name
            );
            let mut deeper = Vec::new();
            render_block(&b.block, &nested_anchor, &mut section, &mut deeper);
            later.push(section);
            later.extend(deeper);
        }
        out.push('\n');
    }
}

fn render_attribute_objects(
    name: &str,
    anchor: &str,
    attrs: Vec<(String, Type, String)>,
) -> String {
    let mut s =
        format!("<a id=\"{anchor}\"></a>\n### Nested Schema for `{name}`\n\nRead-Only:\n\n");
    for (k, t, d) in attrs {
        let d = d.trim();
        let _ = writeln!(
            s,
            "- `{k}` ({}){}{d}",
            type_name(&t),
            if d.is_empty() { "" } else { " " }
        );
    }
    s.push('\n');
    s
}

/// The schema section of a page.
fn schema_section(schema: &Schema) -> String {
    let mut out = String::from("## Schema\n\n");
    let mut later = Vec::new();
    render_block(&schema.block, "nestedatt", &mut out, &mut later);
    for section in later {
        out.push_str(&section);
    }
    out
}

/// A resource, data source or provider page.
pub fn render_page(kind: Kind, name: &str, schema: &Schema, extras: &Extras<'_>) -> String {
    let (title, heading) = match kind {
        Kind::Provider => (format!("{name} Provider"), format!("# {name} Provider")),
        Kind::Resource => (
            format!("{name} Resource - {}", extras.binary),
            format!("# {name} (Resource)"),
        ),
        Kind::DataSource => (
            format!("{name} Data Source - {}", extras.binary),
            format!("# {name} (Data Source)"),
        ),
    };
    let description = schema.block.description.trim();
    let mut out = front_matter(&title, description);
    let _ = writeln!(out, "{heading}\n\n{description}\n");
    if let Some(ex) = extras.example {
        let _ = writeln!(
            out,
            "## Example Usage\n\n```terraform\n{}\n```\n",
            ex.trim_end()
        );
    }
    out.push_str(&schema_section(schema));
    if let Some(imp) = extras.import {
        let _ = writeln!(
            out,
            "## Import\n\nImport is supported using the following syntax:\n\n```shell\n{}\n```",
            imp.trim_end()
        );
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// A function page.
pub fn render_function(name: &str, sig: &Signature, extras: &Extras<'_>) -> String {
    let mut out = front_matter(
        &format!("{name} function - {}", extras.binary),
        &sig.summary,
    );
    let _ = writeln!(out, "# function: {name}\n\n{}\n", sig.description.trim());
    if let Some(ex) = extras.example {
        let _ = writeln!(
            out,
            "## Example Usage\n\n```terraform\n{}\n```\n",
            ex.trim_end()
        );
    }
    let params: Vec<String> = sig
        .parameters
        .iter()
        .map(|p| format!("{} {}", p.name, p.ty))
        .collect();
    let _ = writeln!(
        out,
        "## Signature\n\n```text\n{name}({}) {}\n```\n\n## Arguments\n",
        params.join(", "),
        sig.returns
    );
    for (i, p) in sig.parameters.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}. `{}` ({}) {}",
            i + 1,
            p.name,
            type_name(&p.ty),
            p.description.trim()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tfplugin::schema::NestedBlock;

    fn schema() -> Schema {
        Schema::new(
            Block::new(vec![
                Attribute::required("name", Type::String)
                    .requires_replace()
                    .describe("The name."),
                Attribute::with_default("size", Type::Number, Value::int(3)).describe("How big."),
                Attribute::optional("secret", Type::String)
                    .sensitive()
                    .describe("Shh."),
                Attribute::computed("items", Type::list(Type::object([("arn", Type::String)])))
                    .describe("What exists."),
            ])
            .with_blocks(vec![
                NestedBlock::new(
                    "step",
                    Nesting::List,
                    Block::new(vec![
                        Attribute::required("change", Type::Number).describe("Delta."),
                    ]),
                )
                .items(2, 40),
            ])
            .describe("Makes a thing.\n\nMore words."),
        )
    }

    #[test]
    fn resource_pages_group_attributes_and_document_nested_schemas() {
        let page = render_page(
            Kind::Resource,
            "x_thing",
            &schema(),
            &Extras {
                example: Some("resource \"x_thing\" \"a\" {}"),
                import: Some("terraform import x_thing.a id"),
                binary: "terraform-provider-x",
            },
        );
        assert!(page.starts_with("---\npage_title: \"x_thing Resource - terraform-provider-x\""));
        assert!(page.contains("# x_thing (Resource)\n\nMakes a thing.\n\nMore words."));
        assert!(page.contains(
            "### Required\n\n- `name` (String) The name. Changing it forces a new resource."
        ));
        assert!(page.contains("- `size` (Number) How big. Defaults to `3`."));
        assert!(page.contains("- `secret` (String, Sensitive) Shh."));
        assert!(page.contains("- `step` (Block List, Min: 2, Max: 40)"));
        assert!(
            page.contains("### Read-Only\n\n- `items` (List of Object) What exists. (see [below")
        );
        assert!(page.contains("### Nested Schema for `items`\n\nRead-Only:\n\n- `arn` (String)"));
        assert!(page.contains(
            "### Nested Schema for `step`\n\n### Required\n\n- `change` (Number) Delta."
        ));
        assert!(page.contains("## Import\n\nImport is supported"));
        assert!(page.contains("```terraform\nresource \"x_thing\" \"a\" {}\n```"));
    }

    #[test]
    fn front_matter_uses_the_first_paragraph() {
        let fm = front_matter("t", "One.\n\nTwo.");
        assert!(fm.contains("description: |-\n  One.\n---"), "{fm}");
    }
}
