//! `jukemir bench jukebox`: the Jukebox 5B prior's transformer blocks at full size with random
//! weights, jukemir against a PyTorch re-statement of OpenAI's blocks, one block of each attention
//! type, both sides in their own process with the same threads.

use super::network::measure;
use anyhow::Context;
use clap::Args;
use jukemir_models::jukebox::conditioning::Conditioning;
use jukemir_models::jukebox::device_prior::{ComputeType, DevicePrior};
use jukemir_models::jukebox::prior::{tensor_shapes, Attention, JukeboxPrior, PriorConfig};
use jukemir_models::jukebox::RandomTensors;
use std::process::Command;
use std::time::Instant;

const SCRIPT: &str = include_str!("../../../../tools/reference/bench_jukebox.py");

pub const LONG_ABOUT: &str = "Time the Jukebox 5B top prior's transformer blocks at full size (8192 positions, width \
4800, 8 heads, 128 blocks) with random weights: one block of each attention type (block, transpose-block, \
previous-block), in jukemir and in PyTorch (tools/reference/bench_jukebox.py, a re-statement of OpenAI's \
ResAttnBlock with fp16-stored weights widened for each product, as the reference runs them), each in its own \
process with --threads threads. The representation runs 12 blocks of each type, so seconds per clip are \
extrapolated as 12 × the three blocks (the VQ-VAE encoder adds ~0.1 %). Also prints GFLOP/s as a fraction of \
this machine's f32 matrix-product peak (measured here with the same GEMM jukemir uses), PyTorch in bfloat16 for \
comparison, and each process's peak RSS for these three blocks with the weights of 33 more blocks added \
(2 bytes per parameter on both sides: the reference also holds them as fp16), except for jukemir with \
--stream-weights, which reads each weight matrix when it is used (here: generates it again) and so needs no \
more memory for 36 blocks than for 3.

Needs a Python with torch (tools/reference/requirements-torch.txt). Memory: about 1.5 GB per side at full size; \
--ctx and --width shrink the problem for a quick look.";

#[derive(Args)]
pub struct JukeboxArgs {
    /// Positions per context.
    #[arg(long, default_value_t = 8192)]
    ctx: usize,
    /// Transformer width (attention width is a quarter of it).
    #[arg(long, default_value_t = 4800)]
    width: usize,
    /// Threads for both sides (0: one per core).
    #[arg(short = 'j', long, default_value_t = 0)]
    threads: usize,
    /// Python with torch.
    #[arg(long, env = "JUKEMIR_REFERENCE_PYTHON", default_value = "python3")]
    python: String,
    /// Skip PyTorch in bfloat16.
    #[arg(long)]
    no_bf16: bool,
    /// Run only jukemir's side and print its timings as JSON (used by the benchmark itself).
    #[arg(long, hide = true)]
    worker: bool,
    /// With --worker: stream the weight matrices (as `extract jukebox --stream-weights`).
    #[arg(long, hide = true)]
    stream: bool,
    /// Run both sides on this device instead (cuda: jukemir built with --features cuda, PyTorch with
    /// CUDA); jukemir's products in --compute.
    #[arg(long, value_name = "DEVICE")]
    device: Option<String>,
    /// With --device: jukemir's matrix-product dtype (f32, f16, bf16).
    #[arg(long, value_name = "TYPE", default_value = "f32", value_parser = ["f32", "f16", "bf16"])]
    compute: String,
}

fn config(args: &JukeboxArgs) -> PriorConfig {
    PriorConfig { n_ctx: args.ctx, width: args.width, depth: 3, ..PriorConfig::jukebox_5b() }
}

/// FLOPs of one block: the four products plus the attention's two products per group.
fn block_flops(config: &PriorConfig, attention: Attention) -> f64 {
    let (t, w, s, h) =
        (config.n_ctx as f64, config.width as f64, config.attention_width() as f64, config.mlp_width() as f64);
    let dense = 2.0 * t * (w * 3.0 * s + s * w + w * h + h * w);
    let span = match attention {
        Attention::TransposeBlock => config.blocks as f64,
        Attention::Dense => t,
        _ => config.block_ctx() as f64,
    };
    dense + 2.0 * 2.0 * t * span * s
}

fn worker(args: &JukeboxArgs) -> anyhow::Result<()> {
    let config = config(args);
    let source = RandomTensors::new(tensor_shapes(&config), 0.02);
    // Streamed: each matrix is produced again for every use, as a checkpoint would be read again.
    let prior = if args.stream {
        JukeboxPrior::load_streaming(std::sync::Arc::new(source), &config)?
    } else {
        JukeboxPrior::load(&source, &config)?
    };
    let (n, w) = (config.n_ctx, config.width);
    let conditioning = Conditioning { start: vec![0.01; w], positions: vec![0.0; n * w] };
    let codes: Vec<u32> = (0..n as u32).map(|i| i.wrapping_mul(2_654_435_761) % config.bins as u32).collect();
    let mut x = prior.embed(&codes, &conditioning)?;
    let mut seconds = Vec::new();
    if let Some(name) = &args.device {
        let device = jukemir_models::jukebox::device_prior::device(name)?;
        let compute = ComputeType::from_name(&args.compute)?;
        let on_device = DevicePrior::new(&prior, &device, compute)?;
        // One untimed pass: kernels and library handles are set up on first use.
        on_device.forward(&x, 3, &mut |_, _| Ok(()))?;
        device.synchronize()?;
        let mut start = Instant::now();
        on_device.forward(&x, 3, &mut |_, _| {
            device.synchronize()?;
            seconds.push(start.elapsed().as_secs_f64());
            start = Instant::now();
            Ok(())
        })?;
        println!("{}", serde_json::json!({ "seconds_per_block": seconds }));
        return Ok(());
    }
    let mut start = Instant::now();
    prior.forward(&mut x, 3, &mut |_, _| {
        seconds.push(start.elapsed().as_secs_f64());
        start = Instant::now();
    })?;
    println!("{}", serde_json::json!({ "seconds_per_block": seconds }));
    Ok(())
}

fn seconds_of(stdout: &[u8], what: &str) -> anyhow::Result<Vec<f64>> {
    let line = stdout.rsplit(|&b| b == b'\n').find(|l| !l.is_empty()).unwrap_or(b"{}");
    let report: serde_json::Value = serde_json::from_slice(line).with_context(|| format!("{what} printed no JSON"))?;
    report["seconds_per_block"]
        .as_array()
        .and_then(|v| v.iter().map(serde_json::Value::as_f64).collect::<Option<Vec<_>>>())
        .filter(|v| v.len() == 3)
        .with_context(|| format!("{what} printed no timings"))
}

pub fn jukebox(args: JukeboxArgs) -> anyhow::Result<()> {
    if args.worker {
        return worker(&args);
    }
    let threads =
        if args.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { args.threads };
    let config = config(&args);
    let work = tempfile::tempdir()?;
    let script = work.path().join("bench_jukebox.py");
    std::fs::write(&script, SCRIPT)?;
    let shape = [
        "--ctx".to_string(),
        args.ctx.to_string(),
        "--width".into(),
        args.width.to_string(),
        "--threads".into(),
        threads.to_string(),
    ];

    eprintln!("matrix-product peak ({threads} threads) …");
    let peak = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?
        .install(|| jukemir_models::linalg::peak_gflops(2048, threads));

    let params = (config.width * 3 * config.attention_width()
        + config.attention_width() * config.width
        + 2 * config.width * config.mlp_width()) as f64;
    let weights_33_mib = 33.0 * params * 2.0 / (1 << 20) as f64;
    // (label, seconds per block, peak RSS with 36 blocks' weights)
    let mut sides = Vec::new();
    let device_args: Vec<String> = match &args.device {
        Some(device) => vec!["--device".into(), device.clone()],
        None => Vec::new(),
    };
    if let Some(device) = &args.device {
        eprintln!("jukemir on {device} ({} products): 3 blocks at {} × {} …", args.compute, args.ctx, args.width);
        let mut ours = Command::new(std::env::current_exe()?);
        ours.args(["bench", "jukebox", "--worker"]).args(&shape[..4]).args(&device_args);
        ours.args(["--compute", &args.compute]).env("RAYON_NUM_THREADS", threads.to_string());
        let (run, stdout) = measure(ours, "jukemir's side")?;
        let label = format!("jukemir on {device} ({})", args.compute);
        sides.push((label, seconds_of(&stdout, "jukemir's side")?, run.peak_mib));
    }
    for stream in [false, true].into_iter().filter(|_| args.device.is_none()) {
        eprintln!(
            "jukemir{}: 3 blocks at {} × {} …",
            if stream { " (streamed weights)" } else { "" },
            args.ctx,
            args.width
        );
        let mut ours = Command::new(std::env::current_exe()?);
        ours.args(["bench", "jukebox", "--worker"]).args(&shape[..4]).env("RAYON_NUM_THREADS", threads.to_string());
        if stream {
            ours.arg("--stream");
        }
        let (run, stdout) = measure(ours, "jukemir's side")?;
        let seconds = seconds_of(&stdout, "jukemir's side")?;
        if stream {
            // Weights are read per use, so 36 blocks need no more memory than 3.
            sides.push(("jukemir --stream-weights".to_string(), seconds, run.peak_mib));
        } else {
            sides.push(("jukemir (f32, f16-stored weights)".to_string(), seconds, run.peak_mib + weights_33_mib));
        }
    }

    let dtypes: &[&str] = if args.no_bf16 { &["f32"] } else { &["f32", "bf16"] };
    for dtype in dtypes {
        eprintln!("PyTorch {dtype} ({}) …", args.python);
        let mut theirs = Command::new(&args.python);
        theirs.arg(&script).args(&shape).args(["--dtype", dtype]).args(&device_args);
        let (run, stdout) = measure(theirs, "the PyTorch side")?;
        let label = if *dtype == "f32" { "PyTorch (f32, fp16-stored weights)" } else { "PyTorch (bf16)" };
        sides.push((label.to_string(), seconds_of(&stdout, "the PyTorch side")?, run.peak_mib + weights_33_mib));
    }

    let kinds = [Attention::Block, Attention::TransposeBlock, Attention::PreviousBlock];
    let flops: f64 = kinds.iter().map(|&k| block_flops(&config, k)).sum();
    println!(
        "jukebox prior blocks: {} positions × width {}, {threads} threads; f32 GEMM peak here {peak:.1} GFLOP/s",
        args.ctx, args.width
    );
    println!(
        "{:<36} {:>8} {:>8} {:>8} {:>12} {:>9} {:>12} {:>14}",
        "", "block", "transp.", "prev", "s/clip (36)", "GFLOP/s", "of peak", "RSS 36 blocks"
    );
    for (label, seconds, peak_mib) in &sides {
        let three: f64 = seconds.iter().sum();
        // The peak is the CPU's: a fraction of it means nothing for a GPU run.
        let of_peak = match args.device {
            None => format!("{:.0}%", 100.0 * flops / three / 1e9 / peak),
            Some(_) => "-".into(),
        };
        println!(
            "{label:<36} {:>7.2}s {:>7.2}s {:>7.2}s {:>11.1}s {:>9.1} {of_peak:>12} {:>10.0} MiB",
            seconds[0],
            seconds[1],
            seconds[2],
            12.0 * three,
            flops / three / 1e9,
            peak_mib
        );
    }
    // The first PyTorch line (f32) is the reference; with --device, also compare with its bf16.
    let ours_count = if args.device.is_some() { 1 } else { 2 };
    let reference = &sides[ours_count];
    if args.device.is_some() {
        for theirs in &sides[ours_count..] {
            println!(
                "ratio on the device: {:.2}x the throughput of {}",
                theirs.1.iter().sum::<f64>() / sides[0].1.iter().sum::<f64>(),
                theirs.0
            );
        }
        return Ok(());
    }
    for ours in &sides[..ours_count] {
        println!(
            "ratio, {}: {:.2}x PyTorch's throughput (f32), {:.2}x its peak memory",
            ours.0,
            reference.1.iter().sum::<f64>() / ours.1.iter().sum::<f64>(),
            ours.2 / reference.2
        );
    }
    Ok(())
}
