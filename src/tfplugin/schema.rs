//! Schemas: attributes, nested attributes and nested blocks, with the plan behaviours
//! (defaults, replacement, keeping state for unknowns) the planner applies.
//!
//! Owns the schema model and its implied value types. Conversion to the wire lives in
//! `server/convert.rs`; planning in `plan.rs`.

use super::types::Type;
use super::value::Value;

/// How nested objects repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// Exactly one object, or null.
    Single,
    /// One object that is never null (blocks only).
    Group,
    /// An ordered list of objects.
    List,
    /// A set of objects.
    Set,
    /// A map of objects keyed by label.
    Map,
}

/// What an attribute holds: a plain type, or nested attributes.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrType {
    /// A value of this type.
    Plain(Type),
    /// Objects made of further attributes (protocol 6 nested attributes).
    Nested {
        /// How the objects repeat (`Group` is not allowed here).
        nesting: Nesting,
        /// The attributes of each object.
        attributes: Vec<Attribute>,
    },
}

/// One attribute of a block.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// Attribute name, as written in configuration.
    pub name: String,
    /// Its type.
    pub ty: AttrType,
    /// Markdown description (shown in docs and by language servers).
    pub description: String,
    /// Must be set in configuration.
    pub required: bool,
    /// May be set in configuration.
    pub optional: bool,
    /// The provider may decide the value.
    pub computed: bool,
    /// Hidden in plan output and logs.
    pub sensitive: bool,
    /// Still accepted, but to be removed.
    pub deprecated: bool,
    /// Value planned when configuration leaves it null (needs optional + computed).
    pub default: Option<Value>,
    /// A change of this attribute replaces the resource.
    pub requires_replace: bool,
    /// Keep the prior state value instead of "known after apply" on updates.
    pub use_state_for_unknown: bool,
}

impl Attribute {
    fn with(name: &str, ty: AttrType) -> Attribute {
        Attribute {
            name: name.to_owned(),
            ty,
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            deprecated: false,
            default: None,
            requires_replace: false,
            use_state_for_unknown: false,
        }
    }

    /// A required attribute.
    pub fn required(name: &str, ty: Type) -> Attribute {
        Attribute {
            required: true,
            ..Attribute::with(name, AttrType::Plain(ty))
        }
    }

    /// An optional attribute.
    pub fn optional(name: &str, ty: Type) -> Attribute {
        Attribute {
            optional: true,
            ..Attribute::with(name, AttrType::Plain(ty))
        }
    }

    /// A computed-only attribute.
    pub fn computed(name: &str, ty: Type) -> Attribute {
        Attribute {
            computed: true,
            ..Attribute::with(name, AttrType::Plain(ty))
        }
    }

    /// An optional attribute that gets `default` when configuration leaves it null.
    pub fn with_default(name: &str, ty: Type, default: Value) -> Attribute {
        Attribute {
            optional: true,
            computed: true,
            default: Some(default),
            ..Attribute::with(name, AttrType::Plain(ty))
        }
    }

    /// A computed-only attribute holding nested objects.
    pub fn computed_nested(name: &str, nesting: Nesting, attributes: Vec<Attribute>) -> Attribute {
        Attribute {
            computed: true,
            ..Attribute::with(
                name,
                AttrType::Nested {
                    nesting,
                    attributes,
                },
            )
        }
    }

    /// An attribute holding nested objects, with the given flags set by the caller.
    pub fn nested(name: &str, nesting: Nesting, attributes: Vec<Attribute>) -> Attribute {
        Attribute::with(
            name,
            AttrType::Nested {
                nesting,
                attributes,
            },
        )
    }

    /// Sets the markdown description.
    pub fn describe(mut self, text: &str) -> Attribute {
        text.clone_into(&mut self.description);
        self
    }

    /// Also lets the provider compute the value when configuration leaves it null.
    pub fn and_computed(mut self) -> Attribute {
        self.computed = true;
        self
    }

    /// Marks the attribute sensitive.
    pub fn sensitive(mut self) -> Attribute {
        self.sensitive = true;
        self
    }

    /// Marks the attribute deprecated.
    pub fn deprecated(mut self) -> Attribute {
        self.deprecated = true;
        self
    }

    /// A change replaces the resource.
    pub fn requires_replace(mut self) -> Attribute {
        self.requires_replace = true;
        self
    }

    /// Keeps the prior value in plans instead of marking it unknown.
    pub fn use_state_for_unknown(mut self) -> Attribute {
        self.use_state_for_unknown = true;
        self
    }

    /// The value type this attribute holds.
    pub fn value_type(&self) -> Type {
        match &self.ty {
            AttrType::Plain(t) => t.clone(),
            AttrType::Nested {
                nesting,
                attributes,
            } => {
                let obj = Type::Object(
                    attributes
                        .iter()
                        .map(|a| (a.name.clone(), a.value_type()))
                        .collect(),
                );
                wrap(*nesting, obj)
            }
        }
    }
}

fn wrap(nesting: Nesting, obj: Type) -> Type {
    match nesting {
        Nesting::Single | Nesting::Group => obj,
        Nesting::List => Type::list(obj),
        Nesting::Set => Type::set(obj),
        Nesting::Map => Type::map(obj),
    }
}

/// A nested block (`step { ... }`).
#[derive(Debug, Clone, PartialEq)]
pub struct NestedBlock {
    /// The block type name.
    pub name: String,
    /// How the blocks repeat.
    pub nesting: Nesting,
    /// The contents of each block.
    pub block: Block,
    /// Fewest blocks allowed (0 = no minimum).
    pub min_items: i64,
    /// Most blocks allowed (0 = no maximum).
    pub max_items: i64,
}

impl NestedBlock {
    /// A block of `nesting` kind with no item limits.
    pub fn new(name: &str, nesting: Nesting, block: Block) -> NestedBlock {
        NestedBlock {
            name: name.to_owned(),
            nesting,
            block,
            min_items: 0,
            max_items: 0,
        }
    }

    /// Sets the item limits.
    pub fn items(mut self, min: i64, max: i64) -> NestedBlock {
        self.min_items = min;
        self.max_items = max;
        self
    }
}

/// A block: attributes plus nested blocks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    /// Attributes in display order.
    pub attributes: Vec<Attribute>,
    /// Nested block types.
    pub blocks: Vec<NestedBlock>,
    /// Markdown description.
    pub description: String,
    /// Deprecated as a whole.
    pub deprecated: bool,
}

impl Block {
    /// A block with these attributes and no nested blocks.
    pub fn new(attributes: Vec<Attribute>) -> Block {
        Block {
            attributes,
            ..Block::default()
        }
    }

    /// Adds nested block types.
    pub fn with_blocks(mut self, blocks: Vec<NestedBlock>) -> Block {
        self.blocks = blocks;
        self
    }

    /// Sets the markdown description.
    pub fn describe(mut self, text: &str) -> Block {
        text.clone_into(&mut self.description);
        self
    }

    /// The attribute called `name`.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The object type values of this block have.
    pub fn value_type(&self) -> Type {
        let mut attrs: std::collections::BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.value_type()))
            .collect();
        for b in &self.blocks {
            attrs.insert(b.name.clone(), wrap(b.nesting, b.block.value_type()));
        }
        Type::Object(attrs)
    }
}

/// A versioned schema of a provider, resource or data source.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schema {
    /// Bumped when stored state needs upgrading.
    pub version: i64,
    /// The top-level block.
    pub block: Block,
}

impl Schema {
    /// A version-0 schema.
    pub fn new(block: Block) -> Schema {
        Schema { version: 0, block }
    }

    /// The object type values of this schema have.
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implied_type_covers_attributes_nested_attributes_and_blocks() {
        let block = Block::new(vec![
            Attribute::required("name", Type::String),
            Attribute::computed_nested(
                "alarms",
                Nesting::List,
                vec![Attribute::computed("threshold", Type::Number)],
            ),
        ])
        .with_blocks(vec![NestedBlock::new(
            "step",
            Nesting::List,
            Block::new(vec![Attribute::optional("lower", Type::Number)]),
        )]);
        assert_eq!(
            block.value_type(),
            Type::object([
                ("name", Type::String),
                (
                    "alarms",
                    Type::list(Type::object([("threshold", Type::Number)]))
                ),
                ("step", Type::list(Type::object([("lower", Type::Number)]))),
            ])
        );
    }

    #[test]
    fn defaults_make_an_attribute_optional_and_computed() {
        let a = Attribute::with_default("n", Type::Number, Value::int(1));
        assert!(a.optional && a.computed && !a.required);
    }
}
