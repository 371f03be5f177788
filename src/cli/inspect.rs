//! `zkdl inspect`: the compiled plan and its cost model, before any work.

use super::options::load_network;
use super::CliError;
use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use zkdl_compiler::plan::lower_checked;
use zkdl_compiler::{compile, to_dot, CompileOptions, Visibility};

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// `digits`, `paper`, or a network file (.toml or .json); default `digits` or the built-in network.
    #[arg(long, value_name = "digits|paper|FILE")]
    pub network: Option<String>,
    /// Steps of SGD the plan proves.
    #[arg(long, default_value_t = 16)]
    pub steps: u32,
    /// X and Y public.
    #[arg(long)]
    pub public_data: bool,
    /// W_0 public.
    #[arg(long)]
    pub public_initial_weights: bool,
    /// Also write the unrolled IR as Graphviz DOT.
    #[arg(long, value_name = "FILE")]
    pub dot: Option<PathBuf>,
    /// Print the plan and cost as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: InspectArgs) -> Result<(), CliError> {
    let spec = match (&args.network, super::builtin_network()) {
        (Some(name), _) => load_network(name)?,
        (None, Some(builtin)) => builtin.clone(),
        (None, None) => load_network("digits")?,
    };
    let options = CompileOptions {
        steps: args.steps,
        visibility: Visibility {
            public_data: args.public_data,
            public_initial_weights: args.public_initial_weights,
            public_final_weights: false,
        },
    };
    let plan = compile(&spec, options).map_err(|e| CliError::input(format!("network {}: {e}", spec.name)))?;
    if let Some(path) = &args.dot {
        let ir = lower_checked(&spec, options).map_err(|e| CliError::input(e.to_string()))?;
        zkdl_runtime::files::write_atomically(path, to_dot(&ir).as_bytes())
            .map_err(|e| CliError::input(format!("cannot write {}: {e}", path.display())))?;
    }
    if args.json {
        let doc = json!({ "digest": plan.digest_hex(), "plan": plan, "cost": plan.cost() });
        say!("{}", serde_json::to_string_pretty(&doc).map_err(|e| CliError::input(e.to_string()))?);
    } else {
        say!("{}", plan.to_text());
    }
    Ok(())
}
