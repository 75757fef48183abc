//! `debug`: one librosa test recording labelled "guitar", to try the pipeline end to end.

use super::{AudioRef, DatasetProcessor, Example, ProcessContext};
use serde_json::json;

pub struct Debug;

impl DatasetProcessor for Debug {
    fn name(&self) -> &'static str {
        "debug"
    }

    fn examples(&self, ctx: &ProcessContext) -> anyhow::Result<Vec<Example>> {
        let audio =
            if ctx.metadata_only { None } else { Some(AudioRef { path: ctx.assets.asset("DEBUG_MP3")?, clip: None }) };
        Ok(vec![Example { uid: "debug".into(), meta: json!({ "y": "guitar" }), audio }])
    }
}
