//! Subcommands of the `glrfe` tool. Each turns its flags into library settings, runs the
//! library, prints its result on stdout and, with `--out`, writes result files.

mod args;
mod output;
mod progress;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use args::{Command, Flag, Parsed, opt, switch};
use glrfe::data::{self, Dataset, LoadOptions, LoadSummary};
use glrfe::eval::Metrics;
use glrfe::json::Value;
use glrfe::model::ModelFile;
use glrfe::nn::TrainConfig;
use glrfe::pipeline::{self, CvReport, PipelineConfig};
use glrfe::select::{self, Balance, GlrfeConfig, ImportanceRows, Selection, Step};
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
];

const NETWORK: &[Flag] = &[
    opt("hidden", "N,..", Some("64,32"), "hidden layer widths"),
    opt("epochs", "N", Some("100"), "training epochs"),
    opt("lr", "RATE", Some("0.001"), "Adam learning rate"),
    opt("batch", "N|full", Some("32"), "mini-batch size; 0 or full = whole training set"),
    opt("weight-decay", "W", Some("0"), "L2 weight decay added to weight gradients"),
    opt("balance", "smote|none", Some("smote"), "class balancing of training rows"),
    opt("smote-k", "K", Some("5"), "SMOTE neighbours"),
];

const SELECTION: &[Flag] = &[
    opt("keep", "K", Some("15"), "features to keep"),
    opt("step", "N|FRAC", Some("1"), "features eliminated per round, or a fraction of those in"),
    opt("ensemble", "R", Some("1"), "networks per round, importances averaged"),
    opt("candidates", "M", Some("1"), "candidate pool checked by held-out loss (1 = plain)"),
    opt("validation-fraction", "F", Some("0.2"), "held-out part of training rows for candidates"),
    opt("importance-rows", "real|all", Some("real"), "rows importances are averaged over"),
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

fn commands() -> Vec<Command> {
    vec![
        Command {
            name: "select",
            usage: "glrfe select TABLE [options]",
            about: "Rank every feature by GL-RFE on all given rows; prints \
                    rank,feature,eliminated_in_round,importance as CSV.",
            groups: vec![
                ("Data", DATA),
                ("Selection", SELECTION),
                ("Network", NETWORK),
                ("Run", COMMON),
            ],
        },
        Command {
            name: "evaluate",
            usage: "glrfe evaluate TABLE [--use RANKING.csv | --use-features A,B] [options]",
            about: "Stratified k-fold cross-validation of the network on all features or on a \
                    chosen set; scaling and SMOTE are fitted inside each training fold.",
            groups: vec![
                ("Data", DATA),
                ("Evaluation", EVALUATION),
                ("Network", NETWORK),
                ("Run", COMMON),
            ],
        },
        Command {
            name: "train",
            usage: "glrfe train TABLE --model FILE [--use RANKING.csv | --use-features A,B]",
            about: "Fit scaler, balancing and network on all rows and write a model file.",
            groups: vec![
                ("Model", MODEL_OUT),
                ("Data", DATA),
                ("Features", &EVALUATION[2..]),
                ("Network", NETWORK),
                ("Run", COMMON),
            ],
        },
        Command {
            name: "explain",
            usage: "glrfe explain --model FILE TABLE [options]",
            about: "For each row print id,label,loss,p_positive and dLoss/dx for every model \
                    feature, with respect to the raw (unscaled) value.",
            groups: vec![("Model", MODEL_IN), ("Data", DATA), ("Run", COMMON)],
        },
    ]
}

fn top_help() -> String {
    let mut s = String::from(
        "glrfe: gradient-loss recursive feature elimination for radiomics tables\n\n\
         Usage: glrfe COMMAND TABLE [options]\n\nCommands:\n",
    );
    for c in commands() {
        s.push_str(&format!("  {:<10} {}\n", c.name, c.about));
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
    let cmd = cmds.iter().find(|c| c.name == name).ok_or_else(|| {
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
    match cmd.name {
        "select" => cmd_select(&ctx, &args),
        "evaluate" => cmd_evaluate(&ctx, &args),
        "train" => cmd_train(&ctx, &args),
        "explain" => cmd_explain(&ctx, &args),
        _ => unreachable!("every command in the table is dispatched"),
    }
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
            seed: args.value("seed")?,
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
            if !matches!(k, "threads" | "quiet" | "force" | "out") {
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
        Value::object()
            .field("stage", stage)
            .field("seconds", self.started.elapsed().as_secs_f64())
            .field("threads", rayon::current_num_threads())
            .build()
            .to_pretty()
    }
}

/// The command line without the flags that cannot change results (threads, output folder,
/// --force, --quiet), so that result files of the same run on different thread counts or into
/// different folders compare byte for byte.
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
        Some(d) if d.len() == 1 => Some(d.as_bytes()[0]),
        Some(d) => {
            return Err(Error::usage(format!("--delimiter '{d}' must be one character or 'tab'")));
        }
    };
    let features = args.get("features").map(|_| args.list("features"));
    Ok(LoadOptions {
        features,
        id: args.get("id").map(String::from),
        label: args.get("label").map(String::from),
        positive: args.list("positive"),
        negative: args.list("negative"),
        clinical: args.get("clinical").map(PathBuf::from),
        clinical_id: args.get("clinical-id").map(String::from),
        delimiter,
    })
}

fn load(ctx: &Context, args: &Parsed) -> Result<(Dataset, LoadSummary)> {
    let (data, summary) = data::load(&ctx.table, &load_options(args)?)?;
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
        ..TrainConfig::default()
    })
}

fn balance(args: &Parsed) -> Result<Balance> {
    match args.get("balance") {
        Some("smote") => Ok(Balance::Smote { k: args.value("smote-k")? }),
        Some("none") => Ok(Balance::None),
        Some(other) => Err(Error::usage(format!("--balance '{other}': use smote or none"))),
        None => Err(Error::usage("--balance is required")),
    }
}

fn glrfe_config(args: &Parsed) -> Result<GlrfeConfig> {
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
        keep: args.value("keep")?,
        step,
        ensemble: args.value("ensemble")?,
        candidates: args.value("candidates")?,
        validation_fraction: args.value("validation-fraction")?,
        importance_rows,
        balance: balance(args)?,
        train: train_config(args)?,
    })
}

fn out_dir(args: &Parsed) -> Result<Option<OutDir>> {
    args.get("out").map(|d| OutDir::create(Path::new(d), args.has("force"))).transpose()
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

fn ranking_csv(data: &Dataset, sel: &Selection) -> String {
    let mut s = String::from("rank,feature,eliminated_in_round,importance\n");
    for r in &sel.ranking {
        let round = r.eliminated_in_round.map(|k| k.to_string()).unwrap_or_default();
        s.push_str(&format!(
            "{},{},{},{}\n",
            r.rank,
            csv_field(&data.names[r.feature]),
            round,
            r.importance
        ));
    }
    s
}

fn selection_json(data: &Dataset, sel: &Selection) -> Value {
    let names =
        |idx: &[usize]| Value::from(idx.iter().map(|&j| data.names[j].clone()).collect::<Vec<_>>());
    let rounds: Vec<Value> = sel
        .rounds
        .iter()
        .map(|r| {
            let mut o = Value::object()
                .field("round", r.round)
                .field("features_in", r.features.len())
                .field("train_loss", r.train_loss)
                .field("eliminated", names(&r.eliminated))
                .field(
                    "importance",
                    Value::from(
                        r.features
                            .iter()
                            .zip(&r.importance)
                            .map(|(&f, &v)| {
                                Value::object()
                                    .field("feature", data.names[f].clone())
                                    .field("importance", v)
                                    .build()
                            })
                            .collect::<Vec<_>>(),
                    ),
                );
            if !r.candidate_loss.is_empty() {
                o = o.field("validation_loss", r.validation_loss).field(
                    "candidate_loss",
                    Value::from(
                        r.candidate_loss
                            .iter()
                            .map(|&(f, l)| {
                                Value::object()
                                    .field("feature", data.names[f].clone())
                                    .field("loss", l)
                                    .build()
                            })
                            .collect::<Vec<_>>(),
                    ),
                );
            }
            o.build()
        })
        .collect();
    Value::object().field("kept", names(&sel.kept)).field("rounds", Value::from(rounds)).build()
}

fn cmd_select(ctx: &Context, args: &Parsed) -> Result<()> {
    let cfg = glrfe_config(args)?;
    let out = out_dir(args)?;
    let (data, summary) = load(ctx, args)?;
    let on_round = |done: usize, total: usize| ctx.progress.update("GL-RFE rounds", done, total);
    let sel = select::glrfe(&data.x, &data.y, &cfg, ctx.seed, &[], Some(&on_round))?;
    let csv = ranking_csv(&data, &sel);
    if let Some(out) = out {
        let doc = Value::object()
            .field("provenance", ctx.provenance(args, &summary)?)
            .field("selection", selection_json(&data, &sel))
            .build();
        out.write("ranking.csv", &csv)?;
        out.write("selection.json", &doc.to_pretty())?;
        out.write("timings.json", &ctx.timings("select"))?;
        out.finish()?;
    }
    stdout_text(&csv)
}

/// The columns to use: from `--use RANKING.csv` (its kept rows), `--use-features`, or all.
fn chosen_features(ctx: &Context, data: &Dataset, args: &Parsed) -> Result<Vec<usize>> {
    let names: Vec<String> = match (args.get("use"), args.get("use-features")) {
        (Some(_), Some(_)) => {
            return Err(Error::usage("give either --use or --use-features, not both"));
        }
        (Some(path), None) => kept_from_ranking(Path::new(path))?,
        (None, Some(_)) => args.list("use-features"),
        (None, None) => return Ok((0..data.d()).collect()),
    };
    if names.is_empty() {
        return Err(Error::usage("no features chosen"));
    }
    let missing: Vec<&str> =
        names.iter().filter(|n| data.feature_index(n).is_none()).map(String::as_str).collect();
    if !missing.is_empty() {
        return Err(Error::input(format!(
            "the table has no feature column {}; check --features and the names",
            missing.join(", ")
        ))
        .in_file(&ctx.table));
    }
    let mut idx = Vec::new();
    for n in &names {
        let j = data.feature_index(n).expect("checked above");
        if idx.contains(&j) {
            return Err(Error::usage(format!("feature '{n}' is chosen twice")));
        }
        idx.push(j);
    }
    Ok(idx)
}

/// The kept features of a ranking CSV written by `select`: rows with an empty
/// `eliminated_in_round`, in rank order.
fn kept_from_ranking(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::input(format!("cannot read the ranking: {e}")).in_file(path))?;
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some("rank,feature,eliminated_in_round,importance") {
        return Err(Error::input(
            "not a ranking written by 'glrfe select' (header rank,feature,eliminated_in_round,importance)",
        )
        .in_file(path)
        .at_line(1));
    }
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let mut kept = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec =
            rec.map_err(|e| Error::input(format!("{e}")).in_file(path).at_line(i as u64 + 2))?;
        if rec.len() != 4 {
            return Err(Error::input(format!("expected 4 fields, found {}", rec.len()))
                .in_file(path)
                .at_line(i as u64 + 2));
        }
        if rec[2].trim().is_empty() {
            kept.push(rec[1].to_string());
        }
    }
    if kept.is_empty() {
        return Err(Error::input("the ranking marks no feature as kept").in_file(path));
    }
    Ok(kept)
}

fn metrics_table(report: &CvReport) -> String {
    let mut s = format!("{:<18} {:>8} {:>8} {:>8}\n", "metric", "mean", "sd", "pooled");
    let pooled = report.pooled.values();
    for ((name, summary), p) in report.summary.iter().zip(pooled) {
        s.push_str(&format!("{name:<18} {:>8.4} {:>8.4} {p:>8.4}\n", summary.mean, summary.sd));
    }
    let c = report.pooled.confusion;
    s.push_str(&format!(
        "confusion (pooled, rows = true class 0/1): [[{}, {}], [{}, {}]]\n",
        c[0][0], c[0][1], c[1][0], c[1][1]
    ));
    s
}

fn metrics_json(m: &Metrics) -> Value {
    let mut o = Value::object();
    for (name, v) in Metrics::NAMES.iter().zip(m.values()) {
        o = o.field(*name, v);
    }
    let c = m.confusion;
    o.field(
        "confusion",
        Value::from(vec![
            Value::from(vec![c[0][0] as f64, c[0][1] as f64]),
            Value::from(vec![c[1][0] as f64, c[1][1] as f64]),
        ]),
    )
    .build()
}

fn cmd_evaluate(ctx: &Context, args: &Parsed) -> Result<()> {
    let cfg =
        PipelineConfig { balance: balance(args)?, selection: None, train: train_config(args)? };
    let folds: usize = args.value("folds")?;
    let repeats: usize = args.value("repeats")?;
    let out = out_dir(args)?;
    let (data, summary) = load(ctx, args)?;
    let features = chosen_features(ctx, &data, args)?;
    let on_fold = |done: usize, total: usize| ctx.progress.update("folds", done, total);
    let report =
        pipeline::cross_validate(&data, &features, &cfg, folds, repeats, ctx.seed, Some(&on_fold))?;
    let table = metrics_table(&report);
    if let Some(out) = out {
        let mut per_fold = String::from("repeat,fold");
        for n in Metrics::NAMES {
            per_fold.push_str(&format!(",{n}"));
        }
        per_fold.push('\n');
        let mut predictions = String::from("id,repeat,fold,label,p_positive\n");
        for f in &report.folds {
            per_fold.push_str(&format!("{},{}", f.repeat + 1, f.fold + 1));
            for v in f.metrics.values() {
                per_fold.push_str(&format!(",{v}"));
            }
            per_fold.push('\n');
            for ((&i, &y), &p) in f.test.iter().zip(&f.y).zip(&f.p) {
                predictions.push_str(&format!(
                    "{},{},{},{y},{p}\n",
                    csv_field(&data.ids[i]),
                    f.repeat + 1,
                    f.fold + 1
                ));
            }
        }
        let mut summary_json = Value::object();
        for (name, s) in &report.summary {
            summary_json = summary_json.field(
                *name,
                Value::object().field("mean", s.mean).field("sd", s.sd).field("n", s.n).build(),
            );
        }
        let doc = Value::object()
            .field("provenance", ctx.provenance(args, &summary)?)
            .field(
                "features",
                Value::from(features.iter().map(|&j| data.names[j].clone()).collect::<Vec<_>>()),
            )
            .field("folds", folds)
            .field("repeats", repeats)
            .field("summary", summary_json.build())
            .field("pooled", metrics_json(&report.pooled))
            .field(
                "per_fold",
                Value::from(
                    report.folds.iter().map(|f| metrics_json(&f.metrics)).collect::<Vec<_>>(),
                ),
            )
            .build();
        out.write("evaluation.json", &doc.to_pretty())?;
        out.write("folds.csv", &per_fold)?;
        out.write("predictions.csv", &predictions)?;
        out.write("timings.json", &ctx.timings("evaluate"))?;
        out.finish()?;
    }
    stdout_text(&format!(
        "{}-fold cross-validation x {} repeat(s), {} features, {} rows\n{table}",
        folds,
        repeats,
        features.len(),
        data.n()
    ))
}

fn cmd_train(ctx: &Context, args: &Parsed) -> Result<()> {
    let model_path =
        PathBuf::from(args.get("model").ok_or_else(|| Error::usage("'train' needs --model FILE"))?);
    if model_path == ctx.table {
        return Err(Error::usage("--model must not be the input table"));
    }
    let cfg =
        PipelineConfig { balance: balance(args)?, selection: None, train: train_config(args)? };
    let out = out_dir(args)?;
    let (data, summary) = load(ctx, args)?;
    let features = chosen_features(ctx, &data, args)?;
    let fitted = pipeline::fit(&data.x, &data.y, &features, &cfg, ctx.seed, &[], None)?;
    let p = fitted.predict_proba(&data.x);
    let training = Value::object()
        .field("provenance", ctx.provenance(args, &summary)?)
        .field("train_loss", fitted.train_loss)
        .field("training_rows_metrics", metrics_json(&Metrics::compute(&data.y, &p)))
        .build();
    let model = ModelFile {
        features: fitted.features.iter().map(|&j| data.names[j].clone()).collect(),
        classes: data.classes.clone(),
        scaler: fitted.scaler,
        mlp: fitted.model,
        training,
    };
    let text = model.to_json().to_pretty();
    if let Some(out) = out {
        out.write("model.json", &text)?;
        out.write("timings.json", &ctx.timings("train"))?;
        out.finish()?;
    }
    output::write_file_atomically(&model_path, &text)?;
    ctx.note(&format!(
        "model with {} features written to {}",
        model.features.len(),
        model_path.display()
    ));
    Ok(())
}

fn read_model(args: &Parsed) -> Result<ModelFile> {
    let path =
        PathBuf::from(args.get("model").ok_or_else(|| Error::usage("--model FILE is required"))?);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::input(format!("cannot read the model file: {e}")).in_file(&path))?;
    ModelFile::from_json_text(&text).map_err(|e| e.in_file(&path))
}

fn cmd_explain(ctx: &Context, args: &Parsed) -> Result<()> {
    let model = read_model(args)?;
    let out = out_dir(args)?;
    let (data, _) = load(ctx, args)?;
    let idx: Vec<usize> =
        model.features.iter().map(|n| data.feature_index(n)).collect::<Option<_>>().ok_or_else(
            || {
                let missing: Vec<&str> = model
                    .features
                    .iter()
                    .filter(|n| data.feature_index(n).is_none())
                    .map(String::as_str)
                    .collect();
                Error::input(format!("the table lacks model features: {}", missing.join(", ")))
                    .in_file(&ctx.table)
            },
        )?;
    let x = data.x.select_cols(&idx);
    let xs = model.scaler.transform(&x);
    let grads = model.mlp.row_input_gradients(&xs, &data.y);
    let p = model.mlp.predict_proba(&xs);
    let mut s = String::from("id,label,loss,p_positive");
    for f in &model.features {
        s.push(',');
        s.push_str(&csv_field(f));
    }
    s.push('\n');
    for (i, p) in p.iter().enumerate() {
        let row = xs.select_rows(&[i]);
        let loss = model.mlp.loss(&row, &data.y[i..=i], None);
        s.push_str(&format!("{},{},{loss},{p}", csv_field(&data.ids[i]), data.y[i]));
        // dL/dx = dL/dx' / std for the scaled input x' = (x - mean) / std.
        for (g, sd) in grads.row(i).iter().zip(&model.scaler.std) {
            s.push_str(&format!(",{}", g / sd));
        }
        s.push('\n');
    }
    if let Some(out) = out {
        out.write("explain.csv", &s)?;
        out.finish()?;
    }
    stdout_text(&s)
}
