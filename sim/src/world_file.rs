//! World files: a small YAML description of a [`World`], checked key by key so every
//! mistake is reported with the file, the key path (e.g. `boxes[1].size`) and what is
//! wrong. Unknown keys are errors (a typo must not silently drop an obstacle); optional
//! keys that are absent take the defaults below, keys that are present must be right.
//!
//! ```yaml
//! # Lengths in m, angles in degrees. Every key is optional.
//! start: {x: 0.0, y: 0.0, yaw_deg: 0.0}      # default: the origin, facing +x
//! room: {min: [-5, -5], max: [5, 5]}          # four walls of an axis-aligned room
//! walls:                                      # line segments
//!   - {from: [2.0, -1.0], to: [2.0, 1.0]}
//! boxes:                                      # solid rectangles
//!   - {center: [1.0, 0.0], size: [0.4, 0.6], yaw_deg: 30}   # yaw_deg default 0
//! ```

use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

use super::error::{Error, Result};
use super::world::World;
use bora_geom::{Pose2D, Vec2};

impl World {
    /// Loads a world from the YAML file at `path` (format in the module docs).
    pub fn from_yaml_file(path: &Path) -> Result<World> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::WorldRead {
            path: path.to_owned(),
            source,
        })?;
        World::from_yaml_str(&text, path)
    }

    /// Parses a world from YAML `text`; `path` names its origin in errors.
    pub fn from_yaml_str(text: &str, path: &Path) -> Result<World> {
        let doc: Value = serde_yaml::from_str(text).map_err(|e| Error::WorldSyntax {
            path: path.to_owned(),
            line: e.location().map_or(0, |l| l.line()),
            column: e.location().map_or(0, |l| l.column()),
            reason: e.to_string(),
        })?;
        Reader { path }.world(&doc)
    }
}

/// Walks a parsed document, naming the file and the key path in every error.
struct Reader<'a> {
    path: &'a Path,
}

impl Reader<'_> {
    fn err(&self, key: &str, reason: impl Into<String>) -> Error {
        Error::WorldKey {
            path: PathBuf::from(self.path),
            key: key.to_owned(),
            reason: reason.into(),
        }
    }

    fn world(&self, doc: &Value) -> Result<World> {
        let top = match doc {
            Value::Mapping(m) => m,
            Value::Null => {
                return Err(self.err(
                    "(document)",
                    "is empty: give at least one of `start`, `room`, `walls`, `boxes` (use `walls: []` for an empty world)",
                ))
            }
            other => return Err(self.err("(document)", format!("must be a mapping of keys, found {}", kind(other)))),
        };
        self.only_keys(top, "", &["start", "room", "walls", "boxes"])?;
        let mut world = World::empty();
        if let Some(v) = top.get("start") {
            let start = self.start(v, "start")?;
            world
                .set_start(start)
                .map_err(|e| self.err("start", e.to_string()))?;
        }
        if let Some(v) = top.get("room") {
            let m = self.mapping(v, "room")?;
            self.only_keys(m, "room", &["min", "max"])?;
            let min = self.point(self.required(m, "room", "min")?, "room.min")?;
            let max = self.point(self.required(m, "room", "max")?, "room.max")?;
            if max.x <= min.x || max.y <= min.y {
                return Err(self.err(
                    "room.max",
                    format!("is {max}: it must be above room.min {min} on both axes"),
                ));
            }
            world
                .add_room(min, max)
                .map_err(|e| self.err("room", e.to_string()))?;
        }
        if let Some(v) = top.get("walls") {
            for (i, item) in self.sequence(v, "walls")?.iter().enumerate() {
                let key = format!("walls[{i}]");
                let m = self.mapping(item, &key)?;
                self.only_keys(m, &key, &["from", "to"])?;
                let a = self.point(self.required(m, &key, "from")?, &format!("{key}.from"))?;
                let b = self.point(self.required(m, &key, "to")?, &format!("{key}.to"))?;
                if a == b {
                    return Err(self.err(
                        &format!("{key}.to"),
                        "equals `from`: a wall needs two distinct ends",
                    ));
                }
                world
                    .add_wall(a, b)
                    .map_err(|e| self.err(&key, e.to_string()))?;
            }
        }
        if let Some(v) = top.get("boxes") {
            for (i, item) in self.sequence(v, "boxes")?.iter().enumerate() {
                let key = format!("boxes[{i}]");
                let m = self.mapping(item, &key)?;
                self.only_keys(m, &key, &["center", "size", "yaw_deg"])?;
                let center =
                    self.point(self.required(m, &key, "center")?, &format!("{key}.center"))?;
                let size_key = format!("{key}.size");
                let size = self.point(self.required(m, &key, "size")?, &size_key)?;
                if size.x <= 0.0 || size.y <= 0.0 {
                    return Err(self.err(
                        &size_key,
                        format!("is {size}: it must be two positive lengths in m, [length, width]"),
                    ));
                }
                let yaw_deg = match m.get("yaw_deg") {
                    Some(v) => self.number(v, &format!("{key}.yaw_deg"))?,
                    None => 0.0,
                };
                world
                    .add_box(center, size, yaw_deg.to_radians())
                    .map_err(|e| self.err(&key, e.to_string()))?;
            }
        }
        Ok(world)
    }

    fn start(&self, v: &Value, key: &str) -> Result<Pose2D> {
        let m = self.mapping(v, key)?;
        self.only_keys(m, key, &["x", "y", "yaw_deg"])?;
        let get = |k: &str| -> Result<f64> {
            match m.get(k) {
                Some(v) => self.number(v, &format!("{key}.{k}")),
                None => Ok(0.0),
            }
        };
        Ok(Pose2D::new(
            get("x")?,
            get("y")?,
            get("yaw_deg")?.to_radians(),
        ))
    }

    fn only_keys(&self, m: &Mapping, key: &str, allowed: &[&str]) -> Result<()> {
        for k in m.keys() {
            let name = k.as_str().unwrap_or_default();
            if !allowed.contains(&name) {
                let shown = if name.is_empty() {
                    format!("{k:?}")
                } else {
                    name.to_owned()
                };
                let full = if key.is_empty() {
                    shown
                } else {
                    format!("{key}.{shown}")
                };
                return Err(self.err(
                    &full,
                    format!("is not a known key here: expected one of {allowed:?}"),
                ));
            }
        }
        Ok(())
    }

    fn required<'v>(&self, m: &'v Mapping, key: &str, name: &str) -> Result<&'v Value> {
        m.get(name)
            .ok_or_else(|| self.err(&format!("{key}.{name}"), "is missing and has no default"))
    }

    fn mapping<'v>(&self, v: &'v Value, key: &str) -> Result<&'v Mapping> {
        v.as_mapping()
            .ok_or_else(|| self.err(key, format!("must be a mapping of keys, found {}", kind(v))))
    }

    fn sequence<'v>(&self, v: &'v Value, key: &str) -> Result<&'v [Value]> {
        v.as_sequence()
            .map(Vec::as_slice)
            .ok_or_else(|| self.err(key, format!("must be a list, found {}", kind(v))))
    }

    fn number(&self, v: &Value, key: &str) -> Result<f64> {
        match v.as_f64() {
            Some(x) if x.is_finite() => Ok(x),
            Some(x) => Err(self.err(key, format!("must be a finite number, found {x}"))),
            None => Err(self.err(key, format!("must be a number, found {}", kind(v)))),
        }
    }

    fn point(&self, v: &Value, key: &str) -> Result<Vec2> {
        let items = self.sequence(v, key)?;
        let [x, y] = items else {
            return Err(self.err(
                key,
                format!("must be a pair [x, y] in m, found {} items", items.len()),
            ));
        };
        Ok(Vec2::new(
            self.number(x, &format!("{key}[0]"))?,
            self.number(y, &format!("{key}[1]"))?,
        ))
    }
}

/// What a YAML value is, for error messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing (null)",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<World> {
        World::from_yaml_str(text, Path::new("test.yaml"))
    }

    fn key_of(r: Result<World>) -> String {
        match r {
            Err(Error::WorldKey { key, path, .. }) => {
                assert_eq!(path, Path::new("test.yaml"));
                key
            }
            other => panic!("expected a WorldKey error, got {other:?}"),
        }
    }

    #[test]
    fn a_full_world_file_loads_every_part() -> Result<()> {
        let w = parse(
            "start: {x: 1, y: -0.5, yaw_deg: 90}\n\
             room: {min: [-5, -5], max: [5, 5]}\n\
             walls:\n  - {from: [2.0, -1.0], to: [2.0, 1.0]}\n\
             boxes:\n  - {center: [1.0, 0.0], size: [0.4, 0.6], yaw_deg: 30}\n  - {center: [-1, 0], size: [1, 1]}\n",
        )?;
        assert_eq!(w.walls().len(), 5);
        assert_eq!(w.boxes().len(), 2);
        assert!((w.boxes()[0].yaw() - 30f64.to_radians()).abs() < 1e-12);
        assert_eq!(w.boxes()[1].yaw(), 0.0);
        assert_eq!((w.start().x, w.start().y), (1.0, -0.5));
        assert!((w.start().yaw - std::f64::consts::FRAC_PI_2).abs() < 1e-12);
        Ok(())
    }

    #[test]
    fn each_kind_of_mistake_names_its_key() {
        assert_eq!(key_of(parse("wals: []")), "wals");
        assert_eq!(
            key_of(parse(
                "walls:\n  - {from: [0, 0], to: [1, 0]}\n  - {form: [0, 0], to: [1, 0]}"
            )),
            "walls[1].form"
        );
        assert_eq!(key_of(parse("walls:\n  - {to: [1, 0]}")), "walls[0].from");
        assert_eq!(
            key_of(parse("boxes:\n  - {center: [1, 0], size: [0.4, -1]}")),
            "boxes[0].size"
        );
        assert_eq!(
            key_of(parse("boxes:\n  - {center: [1, 0, 2], size: [1, 1]}")),
            "boxes[0].center"
        );
        assert_eq!(
            key_of(parse("boxes:\n  - {center: [1, x], size: [1, 1]}")),
            "boxes[0].center[1]"
        );
        assert_eq!(
            key_of(parse(
                "boxes:\n  - {center: [1, 0], size: [1, 1], yaw_deg: .nan}"
            )),
            "boxes[0].yaw_deg"
        );
        assert_eq!(key_of(parse("start: {x: fast}")), "start.x");
        assert_eq!(
            key_of(parse("room: {min: [0, 0], max: [0, 1]}")),
            "room.max"
        );
        assert_eq!(key_of(parse("walls: {from: [0, 0]}")), "walls");
        assert_eq!(
            key_of(parse("walls:\n  - {from: [1, 1], to: [1, 1]}")),
            "walls[0].to"
        );
        assert_eq!(key_of(parse("")), "(document)");
        assert_eq!(key_of(parse("- 1")), "(document)");
    }

    #[test]
    fn broken_yaml_is_a_syntax_error_with_its_line() {
        match parse("walls:\n  - {from: [0, 0], to: [1, 0]\n") {
            Err(Error::WorldSyntax { path, line, .. }) => {
                assert_eq!(path, Path::new("test.yaml"));
                assert!(line >= 2, "line {line}");
            }
            other => panic!("expected a WorldSyntax error, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_file_is_a_read_error_naming_it() {
        let path = Path::new("/nonexistent/bora/world.yaml");
        match World::from_yaml_file(path) {
            Err(Error::WorldRead { path: p, .. }) => assert_eq!(p, path),
            other => panic!("expected a WorldRead error, got {other:?}"),
        }
    }
}
