//! Subcommands of the `glrfe` tool. Each turns its flags into library settings, runs the
//! library, prints its result on stdout and, with `--out`, writes result files.

mod args;
mod assess;
mod compare;
mod evaluate;
mod model;
mod output;
mod predict;
mod progress;
mod select;
mod verify;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use args::{Command, Flag, Parsed, opt, switch};
use glrfe::data::{self, Dataset, LoadOptions, LoadSummary, Missing};
use glrfe::eval::Metrics;
use glrfe::json::Value;
use glrfe::model::ModelFile;
use glrfe::nn::{Precision, TrainConfig};
use glrfe::pipeline::{self, CvReport, PipelineConfig};
use glrfe::select::{Balance, GlrfeConfig, Importance, ImportanceRows, Step};
use glrfe::{Error, Result};
use output::OutDir;
use progress::Progress;

/// The master seed when `--seed` is not given.
pub const DEFAULT_SEED: &str = "42";

const DATA: &[Flag] = &[
    opt("features", "GLOB,..", None, "feature columns by glob (default: PyRadiomics names)"),
    opt("id", "COL", None, "id column (default: PatientID when present)"),
    opt("label", "COL", None, "label column (in TABLE or in --clinical)"),
    opt("positive", "V,..", None, "label values of class 1, e.g. IIIa,IIIb"),
    opt("negative", "V,..", None, "label values of class 0, e.g. I,II"),
    opt("clinical", "FILE", None, "second CSV joined on the id, e.g. holding the stage"),
    opt("clinical-id", "COL", None, "id column of --clinical (default: the --id name)"),
    opt("delimiter", "CHAR", None, "field delimiter: ',' ';' or 'tab' (default: detected)"),
    opt(
        "missing",
        "POLICY",
        Some("error"),
        "empty/nan/inf cells: error|drop-rows|drop-columns|median",
    ),
];

const NETWORK: &[Flag] = &[
    opt("hidden", "N,..", Some("64,32"), "hidden layer widths"),
    opt("epochs", "N", Some("100"), "training epochs"),
    opt("lr", "RATE", Some("0.001"), "Adam learning rate"),
    opt("batch", "N|full", Some("32"), "mini-batch size; 0 or full = whole training set"),
    opt("weight-decay", "W", Some("0"), "L2 weight decay added to weight gradients"),
    opt("balance", "smote|class-weight|none", Some("smote"), "class balancing of training rows"),
    opt("smote-k", "K", Some("5"), "SMOTE neighbours"),
    opt(
        "precision",
        "f32|f64",
        Some("f64"),
        "training arithmetic (f32: fused multiply-adds, ~2x faster)",
    ),
];

/// `--keep` comes first: `assess` replaces it with a version that also takes `auto`.
const SELECTION: &[Flag] = &[
    opt("keep", "K", Some("15"), "features to keep"),
    opt("step", "N|FRAC", Some("1"), "features eliminated per round, or a fraction of those in"),
    opt("ensemble", "R", Some("1"), "networks per round, importances averaged"),
    opt("candidates", "M", Some("1"), "candidate pool checked by held-out loss (1 = plain)"),
    opt("validation-fraction", "F", Some("0.2"), "held-out part of training rows for candidates"),
    opt("importance-rows", "real|all", Some("real"), "rows importances are averaged over"),
    switch("warm-start", "continue each round from the last round's networks"),
    opt("warm-epochs", "N", Some("10"), "epochs of a warm-started round (with --warm-start)"),
];

const EVALUATION: &[Flag] = &[
    opt("folds", "K", Some("5"), "stratified cross-validation folds"),
    opt("repeats", "R", Some("1"), "reshuffled repeats of the k folds"),
    opt("use", "FILE", None, "use the kept features of a ranking CSV written by select"),
    opt("use-features", "A,B,..", None, "use these features"),
];

const COMMON: &[Flag] = &[
    opt("seed", "N", Some(DEFAULT_SEED), "master seed of every random stream"),
    opt("threads", "N", None, "worker threads (default: all cores); results do not depend on it"),
    opt("out", "DIR", None, "write result files (JSON, CSV) into this new folder"),
    switch("force", "replace an existing --out folder"),
    switch("quiet", "no progress or summary on stderr"),
];

const MODEL_OUT: &[Flag] =
    &[opt("model", "FILE", None, "where to write the model file (JSON); required")];
const MODEL_IN: &[Flag] = &[opt("model", "FILE", None, "model file written by train; required")];

/// Every subcommand: its flag table and its entry point.
fn commands() -> Vec<(Command, Run)> {
    vec![
        (select::command(), select::run),
        (compare::command(), compare::run),
        (evaluate::command(), evaluate::run),
        (model::train_command(), model::train),
        (model::explain_command(), model::explain),
        (assess::command(), assess::run),
        (predict::command(), predict::run),
        (verify::command(), verify::run),
    ]
}

/// A subcommand's entry point.
type Run = fn(&Context, &Parsed) -> Result<()>;

fn top_help() -> String {
    let mut s = String::from(
        "glrfe: gradient-loss recursive feature elimination for radiomics tables\n\n\
         Usage: glrfe COMMAND TABLE [options]\n\nCommands:\n",
    );
    for (c, _) in commands() {
        // The first clause of the description is enough for the overview.
        let short = c.about.split(['.', ';']).next().unwrap_or(c.about);
        s.push_str(&format!("  {:<10} {short}\n", c.name));
    }
    s.push_str(
        "\nRun 'glrfe COMMAND --help' for a command's options. Exit codes: 0 success, \
                1 a run that failed, 2 bad usage or input.\n",
    );
    s
}

/// Run the tool on `argv` (without the program name); returns the exit code.
pub fn run(argv: Vec<String>) -> i32 {
    match dispatch(&argv) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("glrfe: error: {e}");
            e.kind().exit_code()
        }
    }
}

fn dispatch(argv: &[String]) -> Result<()> {
    let Some(name) = argv.first() else {
        eprint!("{}", top_help());
        return Err(Error::usage("no command given"));
    };
    if name == "--help" || name == "-h" || name == "help" {
        print!("{}", top_help());
        return Ok(());
    }
    if name == "--version" {
        println!("glrfe {}", env!("CARGO_PKG_VERSION"));
        return Ok(());
    }
    let cmds = commands();
    let (cmd, run) = cmds.iter().find(|(c, _)| c.name == name).ok_or_else(|| {
        Error::usage(format!("unknown command '{name}'; run 'glrfe --help' for the list"))
    })?;
    let Some(args) = cmd.parse(&argv[1..])? else {
        print!("{}", cmd.help());
        return Ok(());
    };
    if let Some(n) = args.parse::<usize>("threads")? {
        if n == 0 {
            return Err(Error::usage("--threads must be at least 1"));
        }
        // A fresh process has no global pool yet, so this cannot fail in practice.
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n).build_global();
    }
    let ctx = Context::new(cmd.name, argv, &args)?;
    run(&ctx, &args)
}

/// What every command needs: the table path, the seed, progress, the settings record.
struct Context {
    command: &'static str,
    argv: Vec<String>,
    table: PathBuf,
    seed: u64,
    quiet: bool,
    progress: Progress,
    started: Instant,
}

impl Context {
    fn new(command: &'static str, argv: &[String], args: &Parsed) -> Result<Context> {
        let table = match args.positionals.as_slice() {
            [t] => PathBuf::from(t),
            [] if command == "verify" => PathBuf::new(),
            [] => return Err(Error::usage(format!("'{command}' needs a TABLE (a CSV file)"))),
            more => {
                return Err(Error::usage(format!(
                    "'{command}' takes one TABLE, got {}: {}",
                    more.len(),
                    more.join(" ")
                )));
            }
        };
        let quiet = args.has("quiet");
        Ok(Context {
            command,
            argv: argv.to_vec(),
            table,
            // Commands without a --seed flag (predict, verify) draw nothing at random.
            seed: args.parse("seed")?.unwrap_or(0),
            quiet,
            progress: Progress::new(quiet),
            started: Instant::now(),
        })
    }

    fn note(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }

    /// Everything a result file records about how it was made.
    fn provenance(&self, args: &Parsed, summary: &LoadSummary) -> Result<Value> {
        let mut settings = Value::object();
        for (k, v) in args.pairs() {
            let model_out = k == "model" && self.command == "train";
            if !matches!(k, "threads" | "quiet" | "force" | "out") && !model_out {
                settings = settings.field(k, v);
            }
        }
        let mut inputs = Vec::new();
        for f in &summary.files {
            let hash = glrfe::sha256::file_sha256_hex(f)
                .map_err(|e| Error::input(format!("cannot read: {e}")).in_file(f))?;
            inputs.push(
                Value::object()
                    .field("file", f.display().to_string())
                    .field("sha256", hash)
                    .build(),
            );
        }
        Ok(Value::object()
            .field("tool", "glrfe")
            .field("version", env!("CARGO_PKG_VERSION"))
            .field("command", self.command)
            .field("arguments", Value::from(result_arguments(&self.argv)))
            .field("seed", self.seed)
            .field("settings", settings.build())
            .field("inputs", Value::from(inputs))
            .field("rows_read", summary.rows_read)
            .field("rows_used", summary.rows_read - summary.left_out.len())
            .field("rows_left_out", summary.left_out.len())
            .field("features", summary.features)
            .field(
                "class_counts",
                Value::from(
                    summary.class_counts.iter().map(|&c| Value::from(c)).collect::<Vec<_>>(),
                ),
            )
            .build())
    }

    fn timings(&self, stage: &str) -> String {
        self.timings_with(stage, Vec::new())
    }

    /// `timings.json`, the one file of a result folder that differs between runs: wall time,
    /// threads and any further `(name, seconds)` a command measured.
    fn timings_with(&self, stage: &str, more: Vec<(String, f64)>) -> String {
        let mut o = Value::object()
            .field("stage", stage)
            .field("seconds", self.started.elapsed().as_secs_f64())
            .field("threads", rayon::current_num_threads());
        for (name, seconds) in more {
            o = o.field(name, seconds);
        }
        o.build().to_pretty()
    }
}

/// The command line without the flags that cannot change results (threads, output folder,
/// train's model path, --force, --quiet), so that result files of the same run on different
/// thread counts or into different folders compare byte for byte.
fn result_arguments(argv: &[String]) -> Vec<String> {
    let mut kept = Vec::new();
    let mut skip_value = false;
    for a in argv {
        if std::mem::take(&mut skip_value) {
            continue;
        }
        let name = a.strip_prefix("--").map(|b| b.split('=').next().unwrap_or(b));
        match name {
            Some("threads" | "out") => skip_value = !a.contains('='),
            // Where train writes its model does not change the model (elsewhere --model is an
            // input and stays).
            Some("model") if argv.first().is_some_and(|c| c == "train") => {
                skip_value = !a.contains('=')
            }
            Some("force" | "quiet") => {}
            _ => kept.push(a.clone()),
        }
    }
    kept
}

fn load_options(args: &Parsed) -> Result<LoadOptions> {
    let delimiter = match args.get("delimiter") {
        None => None,
        Some("tab" | "\\t" | "\t") => Some(b'\t'),
        Some("\"" | "\r" | "\n") => {
            return Err(Error::usage("--delimiter cannot be a quote or a line break"));
        }
        Some(d) if d.len() == 1 => Some(d.as_bytes()[0]),
        Some(d) => {
            return Err(Error::usage(format!("--delimiter '{d}' must be one character or 'tab'")));
        }
    };
    let features = args.get("features").map(|_| args.list("features"));
    let missing = match args.get("missing") {
        None | Some("error") => Missing::Error,
        Some("drop-rows") => Missing::DropRows,
        Some("drop-columns") => Missing::DropColumns,
        Some("median") => Missing::Median,
        Some(m) => {
            return Err(Error::usage(format!(
                "--missing '{m}': use error, drop-rows, drop-columns or median"
            )));
        }
    };
    Ok(LoadOptions {
        features,
        id: args.get("id").map(String::from),
        label: args.get("label").map(String::from),
        positive: args.list("positive"),
        negative: args.list("negative"),
        clinical: args.get("clinical").map(PathBuf::from),
        clinical_id: args.get("clinical-id").map(String::from),
        delimiter,
        missing,
        keep_constant: false,
    })
}

fn load(ctx: &Context, args: &Parsed) -> Result<(Dataset, LoadSummary)> {
    let mut opts = load_options(args)?;
    // A command applying a saved model needs every column it was trained on.
    opts.keep_constant = matches!(ctx.command, "explain" | "predict");
    let (data, summary) = data::load(&ctx.table, &opts)?;
    ctx.note(&summary.describe());
    Ok((data, summary))
}

fn train_config(args: &Parsed) -> Result<TrainConfig> {
    let hidden = args
        .list("hidden")
        .iter()
        .map(|h| {
            h.parse::<usize>().ok().filter(|&w| w > 0).ok_or_else(|| {
                Error::usage(format!("--hidden width '{h}' must be a positive integer"))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let batch = match args.get("batch") {
        Some("full") => 0,
        _ => args.value("batch")?,
    };
    Ok(TrainConfig {
        hidden,
        epochs: args.value("epochs")?,
        learning_rate: args.value("lr")?,
        batch_size: batch,
        weight_decay: args.value("weight-decay")?,
        precision: match args.get("precision") {
            Some("f64") | None => Precision::F64,
            Some("f32") => Precision::F32,
            Some(other) => {
                return Err(Error::usage(format!("--precision '{other}': use f32 or f64")));
            }
        },
        ..TrainConfig::default()
    })
}

fn balance(args: &Parsed) -> Result<Balance> {
    match args.get("balance") {
        Some("smote") => Ok(Balance::Smote { k: args.value("smote-k")? }),
        Some("none") => Ok(Balance::None),
        Some("class-weight") => Ok(Balance::ClassWeight),
        Some(other) => {
            Err(Error::usage(format!("--balance '{other}': use smote, class-weight or none")))
        }
        None => Err(Error::usage("--balance is required")),
    }
}

fn glrfe_config(args: &Parsed) -> Result<GlrfeConfig> {
    glrfe_config_keeping(args, args.value("keep")?)
}

/// [`glrfe_config`] with `keep` given rather than read from `--keep`.
fn glrfe_config_keeping(args: &Parsed, keep: usize) -> Result<GlrfeConfig> {
    let step_text = args.get("step").unwrap_or("1");
    let step = if let Ok(n) = step_text.parse::<usize>() {
        Step::Count(n)
    } else {
        match step_text.parse::<f64>() {
            Ok(f) => Step::Fraction(f),
            Err(_) => {
                return Err(Error::usage(format!(
                    "--step '{step_text}' must be an integer or a fraction such as 0.1"
                )));
            }
        }
    };
    let importance_rows = match args.get("importance-rows") {
        Some("real") => ImportanceRows::Real,
        Some("all") => ImportanceRows::All,
        other => {
            return Err(Error::usage(format!(
                "--importance-rows '{}': use real or all",
                other.unwrap_or("")
            )));
        }
    };
    Ok(GlrfeConfig {
        keep,
        step,
        ensemble: args.value("ensemble")?,
        candidates: args.value("candidates")?,
        validation_fraction: args.value("validation-fraction")?,
        importance_rows,
        balance: balance(args)?,
        train: train_config(args)?,
        warm_epochs: if args.has("warm-start") { Some(args.value("warm-epochs")?) } else { None },
        importance: Importance::Gradient,
    })
}

fn out_dir(args: &Parsed) -> Result<Option<OutDir>> {
    let inputs = output::input_paths(args, false);
    args.get("out").map(|d| OutDir::create(Path::new(d), args.has("force"), &inputs)).transpose()
}

fn stdout_text(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (e.g. `| head`) means the reader has what it wanted.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::output(format!("cannot write to stdout: {e}"))),
    }
}

/// Quote a CSV field when it needs it.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
