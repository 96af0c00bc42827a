//! A small command-line parser: `--name value`, `--name=value`, switches and positionals,
//! checked against each command's table of flags, which also produces its `--help` text.

use std::collections::BTreeMap;

use glrfe::{Error, Result};

/// One flag a command accepts.
pub struct Flag {
    pub name: &'static str,
    /// `Some(METAVAR)` for a flag that takes a value, `None` for a switch.
    pub value: Option<&'static str>,
    pub default: Option<&'static str>,
    pub help: &'static str,
}

/// Shorthand for a flag that takes a value.
pub const fn opt(
    name: &'static str,
    value: &'static str,
    default: Option<&'static str>,
    help: &'static str,
) -> Flag {
    Flag { name, value: Some(value), default, help }
}

/// Shorthand for a switch.
pub const fn switch(name: &'static str, help: &'static str) -> Flag {
    Flag { name, value: None, default: None, help }
}

/// A command: its name, usage line, description and flag groups.
pub struct Command {
    pub name: &'static str,
    pub usage: &'static str,
    pub about: &'static str,
    pub groups: Vec<(&'static str, &'static [Flag])>,
}

impl Command {
    fn find(&self, name: &str) -> Option<&Flag> {
        self.groups.iter().flat_map(|(_, flags)| flags.iter()).find(|f| f.name == name)
    }

    /// The `--help` text.
    pub fn help(&self) -> String {
        let mut s = format!("{}\n\nUsage: {}\n", self.about, self.usage);
        let mut previous = "";
        for (title, flags) in &self.groups {
            // Consecutive groups with one title print as one group.
            if *title != previous {
                s.push_str(&format!("\n{title}:\n"));
                previous = title;
            }
            for f in flags.iter() {
                let left = match f.value {
                    Some(v) => format!("--{} {v}", f.name),
                    None => format!("--{}", f.name),
                };
                let default = f.default.map(|d| format!(" [default: {d}]")).unwrap_or_default();
                s.push_str(&format!("  {left:<28} {}{default}\n", f.help));
            }
        }
        s.push_str("  --help                       print this help\n");
        s
    }

    /// Parse `argv` (after the command name). `Ok(None)` means `--help` was asked for.
    pub fn parse(&self, argv: &[String]) -> Result<Option<Parsed>> {
        let mut parsed = Parsed::default();
        let mut i = 0;
        while i < argv.len() {
            let arg = &argv[i];
            i += 1;
            if arg == "--help" || arg == "-h" {
                return Ok(None);
            }
            let Some(body) = arg.strip_prefix("--") else {
                parsed.positionals.push(arg.clone());
                continue;
            };
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let flag = self.find(name).ok_or_else(|| {
                Error::usage(format!(
                    "unknown option '--{name}' for '{}'; see 'glrfe {} --help'",
                    self.name, self.name
                ))
            })?;
            let value = match (flag.value, inline) {
                (None, None) => String::new(),
                (None, Some(_)) => {
                    return Err(Error::usage(format!("--{name} takes no value")));
                }
                (Some(_), Some(v)) => v,
                (Some(meta), None) => {
                    let v = argv
                        .get(i)
                        .ok_or_else(|| Error::usage(format!("--{name} needs a value ({meta})")))?;
                    i += 1;
                    v.clone()
                }
            };
            if parsed.values.insert(flag.name, value).is_some() {
                return Err(Error::usage(format!("--{name} is given more than once")));
            }
        }
        for f in self.groups.iter().flat_map(|(_, flags)| flags.iter()) {
            if let Some(d) = f.default {
                parsed.values.entry(f.name).or_insert_with(|| d.to_string());
            }
        }
        Ok(Some(parsed))
    }
}

/// Parsed arguments; flag defaults are filled in.
#[derive(Default, Debug)]
pub struct Parsed {
    values: BTreeMap<&'static str, String>,
    pub positionals: Vec<String>,
}

impl Parsed {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// A flag's value parsed as `T`, with a usage error naming the flag when it does not parse.
    pub fn parse<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v.trim().parse::<T>().map(Some).map_err(|_| {
                Error::usage(format!("--{name} '{v}' is not a valid {}", kind_name::<T>()))
            }),
        }
    }

    /// Like [`Parsed::parse`] for a flag that has a default, so it is always present.
    pub fn value<T: std::str::FromStr>(&self, name: &str) -> Result<T> {
        self.parse(name)?.ok_or_else(|| Error::usage(format!("--{name} is required")))
    }

    /// A comma-separated list (empty items dropped).
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| {
                v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
            })
            .unwrap_or_default()
    }

    /// All (flag, value) pairs, for recording the settings of a run.
    pub fn pairs(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.values.iter().map(|(k, v)| (*k, v.as_str()))
    }
}

fn kind_name<T>() -> &'static str {
    let t = std::any::type_name::<T>();
    if t.contains("f64") {
        "number"
    } else if t.contains("usize") || t.contains("u64") {
        "non-negative integer"
    } else {
        "value"
    }
}
