//! Figure 4: size of the release binary, and whether it is stripped (read from the ELF
//! section headers: a `.symtab` section means symbols are still there).

use std::fmt::Write as _;

use crate::report::{Figure, Section};
use crate::{Bench, Result};

/// 30 MB, decimal.
const GOAL_BYTES: u64 = 30_000_000;
const GOAL_TEXT: &str = "≤ 30 MB (30,000,000 bytes)";
/// How many of the largest sections to list.
const TOP_SECTIONS: usize = 8;

/// One ELF section: name and size in the file.
struct ElfSection {
    name: String,
    size: u64,
}

/// Measures the binary's size and reads its section headers.
pub fn run(bench: &Bench) -> Result<Section> {
    let bytes = std::fs::read(&bench.binary)
        .map_err(|e| format!("read {}: {e}", bench.binary.display()))?;
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    let sections = elf_sections(&bytes).map_err(|e| {
        format!(
            "{} is not a readable ELF64 file: {e}",
            bench.binary.display()
        )
    })?;
    let has = |name: &str| sections.iter().any(|s| s.name == name);
    let stripped = !has(".symtab");
    let debug_info = sections.iter().any(|s| s.name.starts_with(".debug_"));
    let pass = size <= GOAL_BYTES;
    let state = match (stripped, debug_info) {
        (true, false) => "stripped: no `.symtab`, no `.debug_*` sections".to_owned(),
        (true, true) => "no `.symtab`, but `.debug_*` sections remain".to_owned(),
        (false, _) => "**not stripped**: the binary still has a `.symtab` section \
                       (set `strip = true` in `[profile.release]`)"
            .to_owned(),
    };
    let mut details = format!(
        "Goal: {GOAL_TEXT}. **{verdict}** ({size} bytes, {mib}).\n\n\
         `{path}` as the build left it; {state}.\n\nLargest sections (bytes in the file):\n\n| Section | Bytes | MiB | Share |\n|---|---|---|---|\n",
        verdict = if pass { "Pass" } else { "Fail" },
        mib = mib(size),
        path = crate::display_path(bench, &bench.binary),
    );
    let mut largest: Vec<&ElfSection> = sections.iter().filter(|s| s.size > 0).collect();
    largest.sort_by_key(|s| std::cmp::Reverse(s.size));
    for s in largest.into_iter().take(TOP_SECTIONS) {
        // Reporting precision only.
        #[allow(clippy::cast_precision_loss)]
        let share = s.size as f64 * 100.0 / size as f64;
        let _ = writeln!(
            details,
            "| `{}` | {} | {} | {share:.1} % |",
            s.name,
            s.size,
            mib(s.size)
        );
    }
    let measured = if stripped {
        format!("{size} bytes ({})", mib(size))
    } else {
        format!("{size} bytes ({}), **not stripped**", mib(size))
    };
    Ok(Section {
        title: "Release binary size".to_owned(),
        figures: vec![Figure::with_goal(
            "Stripped release binary size",
            measured,
            GOAL_TEXT,
            pass,
        )],
        details,
    })
}

fn mib(bytes: u64) -> String {
    // Reporting precision only.
    #[allow(clippy::cast_precision_loss)]
    let mib = bytes as f64 / (1024.0 * 1024.0);
    format!("{mib:.2} MiB")
}

/// The sections of a little-endian ELF64 file (the only kind this bench builds).
fn elf_sections(elf: &[u8]) -> std::result::Result<Vec<ElfSection>, String> {
    let u16_at = |at: usize| -> std::result::Result<u16, String> {
        elf.get(at..at + 2)
            .and_then(|b| b.try_into().ok())
            .map(u16::from_le_bytes)
            .ok_or_else(|| format!("truncated at byte {at}"))
    };
    let u32_at = |at: usize| -> std::result::Result<u32, String> {
        elf.get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
            .ok_or_else(|| format!("truncated at byte {at}"))
    };
    let u64_at = |at: usize| -> std::result::Result<usize, String> {
        elf.get(at..at + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| format!("truncated at byte {at}"))
    };
    // Magic, ELFCLASS64, ELFDATA2LSB.
    if elf.get(..6) != Some(b"\x7fELF\x02\x01".as_slice()) {
        return Err("not a little-endian ELF64 header".to_owned());
    }
    let shoff = u64_at(0x28)?;
    let shentsize = usize::from(u16_at(0x3a)?);
    let shnum = usize::from(u16_at(0x3c)?);
    let shstrndx = usize::from(u16_at(0x3e)?);
    let header = |i: usize| shoff + i * shentsize;
    // sh_name at +0x00, sh_type at +0x04, sh_offset at +0x18, sh_size at +0x20.
    let names_at = u64_at(header(shstrndx) + 0x18)?;
    let mut sections = Vec::with_capacity(shnum);
    for i in 0..shnum {
        let h = header(i);
        let name_at = names_at + u32_at(h)? as usize;
        let name = elf
            .get(name_at..)
            .and_then(|rest| rest.split(|b| *b == 0).next())
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .ok_or_else(|| format!("section name out of range at byte {name_at}"))?;
        // SHT_NOBITS (.bss) occupies no bytes in the file.
        let size = if u32_at(h + 0x04)? == 8 {
            0
        } else {
            u64_at(h + 0x20)? as u64
        };
        sections.push(ElfSection { name, size });
    }
    Ok(sections)
}
