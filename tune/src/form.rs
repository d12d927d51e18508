//! Which JSON form an adapter was trained to write its plans in: `bora tune` records it
//! in [`FORM_FILE`] beside the adapter, and the language stage reads it back to choose
//! the grammar and the expansion (`bora_agent::PlanForm`). An adapter directory without
//! the file was trained on the full form (adapters from before the short form, or from
//! other tools).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// File name of the record inside an adapter directory.
pub const FORM_FILE: &str = "bora_form.json";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    plan_form: String,
}

/// The form name recorded in `dir` (`"full"`, `"short"`), or None without a record.
pub fn read_form(dir: &Path) -> Result<Option<String>> {
    let path = dir.join(FORM_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(Error::AdapterIo { path, source }),
    };
    let record: Record = serde_json::from_str(&text).map_err(|e| Error::InvalidAdapter {
        path: path.clone(),
        reason: format!("{e} (expected {{\"plan_form\": \"short\"}} or \"full\")"),
    })?;
    Ok(Some(record.plan_form))
}

/// Records in `dir` that the adapter writes plans in the form named `name`.
pub fn write_form(dir: &Path, name: &str) -> Result<()> {
    let path = dir.join(FORM_FILE);
    let text = serde_json::to_string(&Record {
        plan_form: name.into(),
    })
    .map_err(|e| Error::InvalidAdapter {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    std::fs::write(&path, text + "\n").map_err(|source| Error::AdapterIo { path, source })
}
