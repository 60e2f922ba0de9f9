//! Command-line options: `--name value` pairs and bare `--flag`s, with typed
//! look-ups and an error for any option a command did not ask about.

use std::cell::RefCell;
use std::collections::HashSet;
use std::str::FromStr;

pub struct Args {
    options: Vec<(String, String)>,
    flags: Vec<String>,
    used: RefCell<HashSet<String>>,
}

impl Args {
    /// Splits `args`; names listed in `bare` take no value.
    pub fn parse(args: impl IntoIterator<Item = String>, bare: &[&str]) -> Result<Args, String> {
        let mut options = Vec::new();
        let mut flags = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument {arg:?}"));
            };
            if bare.contains(&name) {
                flags.push(name.to_string());
                continue;
            }
            let value = args
                .next()
                .ok_or_else(|| format!("--{name} needs a value"))?;
            options.push((name.to_string(), value));
        }
        Ok(Args {
            options,
            flags,
            used: RefCell::new(HashSet::new()),
        })
    }

    fn mark(&self, name: &str) {
        self.used.borrow_mut().insert(name.to_string());
    }

    pub fn flag(&self, name: &str) -> bool {
        self.mark(name);
        self.flags.iter().any(|f| f == name)
    }

    /// The last value given for `--name`, if any.
    pub fn text(&self, name: &str) -> Option<String> {
        self.mark(name);
        self.options
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    /// Every value given for a repeatable `--name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.mark(name);
        self.options
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn required(&self, name: &str) -> Result<String, String> {
        self.text(name)
            .ok_or_else(|| format!("--{name} is required"))
    }

    /// `--name` parsed as `T`, or `default` when absent.
    pub fn get<T: FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.text(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{name}: cannot read {v:?}")),
        }
    }

    /// `--name` parsed as `T`, if present.
    pub fn maybe<T: FromStr>(&self, name: &str) -> Result<Option<T>, String> {
        self.text(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| format!("--{name}: cannot read {v:?}"))
            })
            .transpose()
    }

    /// Fails on any option or flag the command never looked up.
    pub fn finish(&self) -> Result<(), String> {
        let used = self.used.borrow();
        let unknown = self
            .options
            .iter()
            .map(|(n, _)| n)
            .chain(self.flags.iter())
            .find(|n| !used.contains(n.as_str()));
        match unknown {
            Some(name) => Err(format!("unknown option --{name}")),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Args;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn values_flags_and_unknowns() {
        let a = Args::parse(
            args(&["--n", "3", "--quiet", "--s", "x", "--s", "y"]),
            &["quiet"],
        )
        .expect("parses");
        assert_eq!(a.get("n", 0u32), Ok(3));
        assert!(a.flag("quiet"));
        assert_eq!(a.all("s"), vec!["x", "y"]);
        assert_eq!(a.finish(), Ok(()));
        let b = Args::parse(args(&["--other", "1"]), &[]).expect("parses");
        assert!(b.finish().is_err());
        assert!(Args::parse(args(&["--n"]), &[]).is_err());
        assert!(Args::parse(args(&["stray"]), &[]).is_err());
    }
}
