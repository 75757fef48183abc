//! Jukebox's level-2 encoder, bottleneck, label conditioning and prior against OpenAI's own code
//! (`tools/reference/gen_jukebox_fixtures.py`: jukebox @ 08efbbc on torch 2.1.2) on a tiny random
//! model saved in the original legacy checkpoint format: 1 s of real music at 22.05 kHz resampled
//! to 44.1 kHz (344 codes), a 256-position prior of width 64 with 6 of the checkpoint's 8 layers
//! (each attention type twice) and Conv1D weights that fp16 cannot represent exactly; then the
//! whole representation from the WAV the reference container was given.

use jukemir_models::jukebox::conditioning::{Conditioning, ConditioningConfig};
use jukemir_models::jukebox::encoder::{EncoderConfig, JukeboxEncoder};
use jukemir_models::jukebox::prior::{JukeboxPrior, PriorConfig};
use jukemir_models::torch_legacy::LegacyCheckpoint;
use jukemir_representations::jukebox::{JukeboxConfig, JukeboxRepresentation, Pool};
use jukemir_representations::Representation;
use ndarray::{Array1, Array2};
use ndarray_npy::ReadNpyExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/jukebox").join(name)
}

fn npy<T: ReadNpyExt>(name: &str) -> T {
    T::read_npy(std::fs::File::open(fixture(name)).unwrap()).unwrap()
}

fn manifest() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("manifest.json")).unwrap()).unwrap()
}

fn configs() -> (EncoderConfig, PriorConfig, ConditioningConfig) {
    let m = manifest();
    let (vq, pr) = (&m["vqvae_hparams"], &m["prior_hparams"]);
    let usize_of = |v: &serde_json::Value| v.as_u64().unwrap() as usize;
    let list = |v: &serde_json::Value| v.as_array().unwrap().iter().map(usize_of).collect::<Vec<_>>();
    let multiplier = list(&vq["multipliers"])[2];
    let encoder = EncoderConfig {
        downs_t: list(&vq["downs_t"]),
        strides_t: list(&vq["strides_t"]),
        width: usize_of(&vq["width"]) * multiplier,
        depth: usize_of(&vq["depth"]) * multiplier,
        m_conv: vq["m_conv"].as_f64().unwrap(),
        dilation_growth_rate: usize_of(&vq["dilation_growth_rate"]),
        dilation_cycle: vq["dilation_cycle"].as_u64().map(|c| c as usize),
        res_scale: false,
        emb_width: usize_of(&vq["emb_width"]),
        l_bins: usize_of(&vq["l_bins"]),
        level: 2,
    };
    let prior = PriorConfig {
        n_ctx: usize_of(&pr["n_ctx"]),
        width: usize_of(&pr["width"]),
        heads: usize_of(&pr["heads"]),
        depth: usize_of(&pr["depth_built"]),
        blocks: usize_of(&pr["blocks"]),
        m_attn: pr["m_attn"].as_f64().unwrap(),
        m_mlp: pr["m_mlp"].as_f64().unwrap(),
        attn_order: usize_of(&pr["attn_order"]),
        bins: usize_of(&pr["bins"]),
    };
    let y_bins = list(&pr["y_bins"]);
    let conditioning = ConditioningConfig {
        width: prior.width,
        n_ctx: prior.n_ctx,
        y_bins: (y_bins[0], y_bins[1]),
        t_bins: usize_of(&pr["t_bins"]),
        max_bow_genre_size: usize_of(&pr["max_bow_genre_size"]),
        sample_rate: pr["sr"].as_f64().unwrap(),
        min_duration: pr["min_duration"].as_f64().unwrap(),
        max_duration: pr["max_duration"].as_f64().unwrap(),
        raw_to_tokens: usize_of(&pr["raw_to_tokens"]),
        total_length: usize_of(&pr["total_length"]),
        offset: 0,
        artist: 0,
        genre: 0,
    };
    (encoder, prior, conditioning)
}

fn max_abs(ours: &[f32], theirs: &[f32]) -> f32 {
    assert_eq!(ours.len(), theirs.len());
    ours.iter().zip(theirs).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max)
}

fn scale(values: &[f32]) -> f32 {
    values.iter().fold(0f32, |m, v| m.max(v.abs()))
}

#[test]
fn encoder_and_codes_match_openais() {
    let (config, _, _) = configs();
    let vqvae = LegacyCheckpoint::open(&fixture("vqvae_tiny.pth.tar")).unwrap();
    let encoder = JukeboxEncoder::load(&vqvae, &config).unwrap();
    assert_eq!(config.hop_length(), 128);
    let audio: Array1<f32> = npy("audio_44k.npy");
    let encoded = encoder.encode(audio.as_slice().unwrap());
    let theirs: Array2<f32> = npy("enc_level2.npy");
    assert_eq!((config.emb_width, encoded.frames), (theirs.nrows(), theirs.ncols()));
    let err = max_abs(&encoded.embeddings, theirs.as_slice().unwrap());
    let scale = scale(theirs.as_slice().unwrap());
    eprintln!("encoder output: {err:.2e} (scale {scale:.1})");
    assert!(err < 1e-5 * scale, "{err}");

    // Codes: the same float32 expression; near-ties (35 of 344 frames within 1e-4·|x|²) could flip
    // under another summation order, so a small budget is allowed, and reported.
    let codes: Array1<i64> = npy("codes_level2.npy");
    let mismatches = encoded.codes.iter().zip(codes.iter()).filter(|(a, b)| i64::from(**a) != **b).count();
    eprintln!("code mismatches: {mismatches} of {}", codes.len());
    assert_eq!(encoded.codes.len(), codes.len());
    assert!(mismatches <= 3, "{mismatches}");
}

#[test]
fn conditioning_matches_openais() {
    let (_, _, config) = configs();
    let prior = LegacyCheckpoint::open(&fixture("prior_tiny.pth.tar")).unwrap();
    let conditioning = Conditioning::load(&prior, &config).unwrap();
    let y_cond: Array1<f32> = npy("y_cond.npy");
    let x_cond: Array2<f32> = npy("x_cond.npy");
    assert!(max_abs(&conditioning.start, y_cond.as_slice().unwrap()) < 1e-6);
    assert!(max_abs(&conditioning.positions, x_cond.as_slice().unwrap()) < 1e-6);
}

#[test]
fn every_prior_layer_matches_openais() {
    let (_, config, conditioning_config) = configs();
    let checkpoint = LegacyCheckpoint::open(&fixture("prior_tiny.pth.tar")).unwrap();
    let conditioning = Conditioning::load(&checkpoint, &conditioning_config).unwrap();
    let prior = JukeboxPrior::load(&checkpoint, &config).unwrap();
    // The reference's codes, so that a flipped near-tie in the encoder cannot blur this test.
    let codes: Vec<u32> = npy::<Array1<i64>>("codes_level2.npy").iter().map(|&c| c as u32).collect();
    let mut x = prior.embed(&codes, &conditioning).unwrap();
    let h_in: Array2<f32> = npy("h_in.npy");
    assert!(max_abs(&x, h_in.as_slice().unwrap()) < 1e-6);

    let mut errors = Vec::new();
    prior
        .forward(&mut x, config.depth, &mut |d, stream| {
            let theirs: Array2<f32> = npy(&format!("layer{d}.npy"));
            let theirs = theirs.as_slice().unwrap();
            errors.push((d, max_abs(stream, theirs), scale(theirs)));
        })
        .unwrap();
    assert_eq!(errors.len(), 6);
    for (d, err, scale) in errors {
        eprintln!("layer {d} ({:?}): {err:.2e} of {scale:.1}", config.attention(d).unwrap());
        // Skipping the reference's fp16 rounding of the weights would give 1e-3 … 4e-3.
        assert!(err < 1e-5 * scale, "layer {d}: {err}");
    }
}

#[test]
fn layers_missing_from_the_checkpoint_are_an_error() {
    let (_, mut config, _) = configs();
    config.depth = 9; // the file holds 8
    let checkpoint = LegacyCheckpoint::open(&fixture("prior_tiny.pth.tar")).unwrap();
    let err = JukeboxPrior::load(&checkpoint, &config).unwrap_err();
    assert!(format!("{err:#}").contains("no layer 8"), "{err:#}");
}

fn load(layers: &[usize], pool: Pool, stream: bool) -> anyhow::Result<JukeboxRepresentation> {
    let (encoder, prior, conditioning) = configs();
    let config = JukeboxConfig { encoder, prior, conditioning };
    let vqvae = LegacyCheckpoint::open(&fixture("vqvae_tiny.pth.tar")).unwrap();
    let checkpoint = Arc::new(LegacyCheckpoint::open(&fixture("prior_tiny.pth.tar")).unwrap());
    JukeboxRepresentation::load(&vqvae, checkpoint, &config, layers, pool, stream)
}

fn representation(layers: &[usize], pool: Pool) -> JukeboxRepresentation {
    load(layers, pool, false).unwrap()
}

#[test]
fn extract_file_matches_the_reference_container() {
    // Decode → 44.1 kHz (our resampy port) → peak normalisation → codes → 6 layers → mean.
    let repr = representation(&[6], Pool::Mean);
    assert_eq!(repr.dim(), 64);
    let ours = repr.extract_file(&fixture("input.wav")).unwrap();
    let theirs: Array1<f32> = npy("representation.npy");
    let err = max_abs(&ours, theirs.as_slice().unwrap());
    eprintln!("representation: {err:.2e} of {:.1}", scale(theirs.as_slice().unwrap()));
    assert!(err < 1e-5 * scale(theirs.as_slice().unwrap()), "{err}");
    // Streaming the weight matrices from the checkpoint computes exactly the same.
    let streamed = load(&[6], Pool::Mean, true).unwrap().extract_file(&fixture("input.wav")).unwrap();
    assert_eq!(streamed, ours);
}

#[test]
fn other_layers_and_poolings_match_the_captured_activations() {
    let codes: Vec<u32> = npy::<Array1<i64>>("codes_level2.npy").iter().map(|&c| c as u32).collect();
    for (pool, file) in [(Pool::Mean, "pool_mean.npy"), (Pool::Max, "pool_max.npy")] {
        let theirs: Array2<f32> = npy(file); // [layer, width]
        let ours = representation(&[5, 2, 4], pool).from_codes(&codes).unwrap();
        assert_eq!(ours.len(), 3 * 64);
        for (chunk, layer) in ours.chunks_exact(64).zip([5, 2, 4]) {
            let err = max_abs(chunk, theirs.row(layer - 1).as_slice().unwrap());
            assert!(err < 1e-5 * scale(theirs.row(layer - 1).as_slice().unwrap()), "{file} layer {layer}: {err}");
        }
    }
    let none = representation(&[1], Pool::None);
    assert_eq!(none.dim(), 256 * 64);
    let layer0: Array2<f32> = npy("layer0.npy");
    assert!(max_abs(&none.from_codes(&codes).unwrap(), layer0.as_slice().unwrap()) < 1e-5 * 6.0);
}

#[test]
fn audio_too_short_for_the_context_is_an_error_naming_the_counts() {
    // The reference raises "Audio file is not long enough" after 241 codes; so do we.
    let repr = representation(&[6], Pool::Mean);
    let err = format!("{:#}", repr.extract_file(&fixture("too_short.wav")).unwrap_err());
    assert!(err.contains("too short") && err.contains("241 codes") && err.contains("needs 256"), "{err}");
    let codes: Array1<i64> = npy("too_short_codes_level2.npy");
    assert_eq!(codes.len(), 241);
}

#[test]
fn bad_layer_choices_are_refused() {
    for layers in [&[][..], &[0][..], &[7][..], &[2, 5, 2][..]] {
        for stream in [false, true] {
            assert!(load(layers, Pool::Mean, stream).is_err(), "{layers:?}");
        }
    }
}

/// `--per-layer`: the extract contract writes each layer's vector to `layer_<L>/<stem>.npy`, equal
/// to that layer's part of the stacked vector, and a rerun finds every file done.
#[test]
fn per_layer_outputs_go_to_one_folder_per_layer() {
    use jukemir_representations::{extract_folder, ExtractOptions, Quiet};
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::copy(fixture("input.wav"), input.join("clip.wav")).unwrap();
    let stacked = representation(&[5, 2], Pool::Mean).extract_file(&input.join("clip.wav")).unwrap();
    let repr = representation(&[5, 2], Pool::Mean).with_per_layer_outputs(true);
    let out = dir.path().join("out");
    let report = extract_folder(&repr, &input, &out, &ExtractOptions::default(), &Quiet).unwrap();
    assert_eq!((report.written, report.failed.len()), (1, 0), "{report:?}");
    for (part, layer) in stacked.chunks_exact(64).zip(["layer_5", "layer_2"]) {
        let written: Array1<f32> = ndarray_npy::read_npy(out.join(layer).join("clip.npy")).unwrap();
        assert_eq!(written.as_slice().unwrap(), part, "{layer}");
    }
    assert!(!out.join("clip.npy").exists());
    let again = extract_folder(&repr, &input, &out, &ExtractOptions::default(), &Quiet).unwrap();
    assert_eq!((again.skipped, again.written), (1, 0));
    // A missing part makes the file pending again.
    std::fs::remove_file(out.join("layer_2/clip.npy")).unwrap();
    let redo = extract_folder(&repr, &input, &out, &ExtractOptions::default(), &Quiet).unwrap();
    assert_eq!((redo.skipped, redo.written), (0, 1));
}

/// `weights fetch jukebox` verifies downloads by structure (nothing else is published): the tiny
/// models pass against their own shapes and fail against the 5B's, and a truncated file fails.
#[test]
fn published_checkpoints_are_verified_by_structure() {
    use jukemir_models::jukebox::published::{verify_prior, verify_vqvae, PublishedCheckpoint};
    let (encoder, prior, conditioning) = configs();
    let (vqvae_path, prior_path) = (fixture("vqvae_tiny.pth.tar"), fixture("prior_tiny.pth.tar"));
    verify_vqvae(&vqvae_path, &encoder).unwrap();
    verify_prior(&prior_path, &PriorConfig { depth: 8, ..prior.clone() }, &conditioning).unwrap();

    let missing_layer = verify_prior(&prior_path, &PriorConfig { depth: 9, ..prior }, &conditioning).unwrap_err();
    assert!(missing_layer.contains("prior.transformer._attn_mods.8"), "{missing_layer}");
    let not_5b = PublishedCheckpoint::Prior5b.verify(&prior_path).unwrap_err();
    assert!(not_5b.contains("shape") && not_5b.contains("4800"), "{not_5b}");
    let not_5b = PublishedCheckpoint::Vqvae5b.verify(&vqvae_path).unwrap_err();
    assert!(not_5b.contains("shape"), "{not_5b}");

    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(&prior_path).unwrap();
    let truncated = dir.path().join("prior_level_2.pth.tar");
    std::fs::write(&truncated, &bytes[..bytes.len() - 1000]).unwrap();
    let err = verify_prior(&truncated, &PriorConfig { depth: 8, ..configs().1 }, &conditioning).unwrap_err();
    assert!(err.contains("not a complete legacy PyTorch checkpoint"), "{err}");
    assert_eq!(PublishedCheckpoint::from_name("jukebox-5b-prior"), Some(PublishedCheckpoint::Prior5b));
}

/// The tensor formulation (what runs on a GPU with `--device cuda`), run on the CPU: every layer
/// and the representation from the WAV match OpenAI's as the CPU kernels do.
#[test]
fn the_device_formulation_matches_openais_on_the_cpu() {
    use jukemir_models::jukebox::device_prior::ComputeType;
    let repr = representation(&[6], Pool::Mean).on_device("cpu", ComputeType::F32).unwrap();
    let ours = repr.extract_file(&fixture("input.wav")).unwrap();
    let theirs: Array1<f32> = npy("representation.npy");
    let err = max_abs(&ours, theirs.as_slice().unwrap());
    assert!(err < 1e-5 * scale(theirs.as_slice().unwrap()), "{err}");

    let codes: Vec<u32> = npy::<Array1<i64>>("codes_level2.npy").iter().map(|&c| c as u32).collect();
    for (pool, file) in [(Pool::Mean, "pool_mean.npy"), (Pool::Max, "pool_max.npy")] {
        let theirs: Array2<f32> = npy(file);
        let repr = representation(&[1, 2, 3, 4, 5, 6], pool).on_device("cpu", ComputeType::F32).unwrap();
        let ours = repr.from_codes(&codes).unwrap();
        for (layer, chunk) in ours.chunks_exact(64).enumerate() {
            let row = theirs.row(layer);
            let err = max_abs(chunk, row.as_slice().unwrap());
            assert!(err < 1e-5 * scale(row.as_slice().unwrap()), "{file} layer {}: {err}", layer + 1);
        }
    }
    let err = representation(&[6], Pool::Mean).on_device("cuda:0", ComputeType::F32);
    if !candle_core::utils::cuda_is_available() {
        assert!(format!("{:#}", err.err().unwrap()).contains("--features cuda"));
    }
}
