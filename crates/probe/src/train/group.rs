//! Training the configs of one grid group side by side.
//!
//! The reference seeds every config with the same seed, so CPython's `random.sample` draws the same
//! batch indices, step for step, for every config with the same batch size. Configs that differ
//! only in learning rate, L2 weight decay and hidden layer ([] or [h]) therefore see the same input
//! batch at every step: their first layers are one `batch × dim × Σwidths` product and their weight
//! gradients one more, instead of two small products per config. One input-dropout mask is drawn
//! per step for the whole group; each config's training distribution is unchanged by that (its
//! own mask is still Bernoulli(1 − p), as torch's would be), the configs just become correlated.
//! Each config keeps its own initialisation (torch's order, from its seed, exactly as the
//! single-config trainer draws it), hidden-layer dropout, Adam state and early stopping, and
//! leaves the group when it stops.

use super::kernels::{
    add_bias, bias_relu_in_place, bias_relu_masked, column_sums, loss_gradient, masked, matmul, relu_masked_backward,
    row_major, transposed,
};
use super::{eval, Progress, TrainedProbe};
use crate::adam::AdamUpdate;
use crate::config::ProbeConfig;
use crate::data::{self, ProbeData, PyRandom};
use crate::model::{torch_linear_init, SimpleMlp};
use anyhow::{bail, ensure, Result};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Configs with the same key can be trained as one group: everything but the learning rate, the
/// L2 weight decay and the hidden layer is equal, the seed is fixed (so the batches are shared) and
/// there is at most one hidden layer. `None`: the config trains alone.
pub fn group_key(cfg: &ProbeConfig) -> Option<String> {
    if cfg.seed.is_none() || cfg.hidden_layer_sizes.len() > 1 {
        return None;
    }
    let mut values = cfg.values().clone();
    for free in ["learning_rate", "l2_weight_decay", "hidden_layer_sizes"] {
        values.remove(free);
    }
    Some(serde_json::Value::Object(values).to_string())
}

/// Whether [`train_group`] can train `cfg` (alone or with others).
pub fn supports(cfg: &ProbeConfig) -> bool {
    cfg.hidden_layer_sizes.len() <= 1
}

/// One config's place in the group.
struct Member {
    /// Index into the group's configs.
    index: usize,
    /// First-layer outputs: the hidden width, or the number of outputs for a linear probe.
    width: usize,
    lr: f64,
    weight_decay: f64,
    /// The output layer of a probe with a hidden layer.
    head: Option<Head>,
    /// Hidden-layer dropout masks (after the initial weights were drawn from it).
    rng: ChaCha8Rng,
    best: f64,
    boredom: usize,
    best_state: Option<Params>,
    /// Floating-point operations of this member's products so far.
    flops: f64,
}

/// The output layer after a hidden layer, with its Adam moments and gradients.
struct Head {
    weight: Vec<f32>,
    bias: Vec<f32>,
    moments: [Vec<f32>; 4],
    grad_weight: Vec<f32>,
    grad_bias: Vec<f32>,
}

/// One member's parameters: first layer `(width, dim)` and bias, and the head if any.
#[derive(Clone)]
struct Params {
    weight: Vec<f32>,
    bias: Vec<f32>,
    head: Option<(Vec<f32>, Vec<f32>)>,
}

/// The first layers of every member, stacked in member order (`Σwidths × dim`, torch's layout),
/// with their Adam moments.
struct Stacked {
    weight: Vec<f32>,
    bias: Vec<f32>,
    m_weight: Vec<f32>,
    v_weight: Vec<f32>,
    m_bias: Vec<f32>,
    v_bias: Vec<f32>,
}

/// Train `cfgs` (one group: see [`group_key`], or a single config that [`supports`] allows) on
/// `data`, with `threads()` threads for the products of each step (asked again at every step, so a
/// grid can give a group more threads once other workers ran out of work; more than one thread
/// means the rayon pool the caller runs in). Each config is handed to `on_done` with its
/// index as soon as it stops; `on_eval` sees each early-stopping evaluation.
pub fn train_group(
    cfgs: &[ProbeConfig],
    data: &ProbeData,
    threads: &(dyn Fn() -> usize + Sync),
    on_eval: &mut dyn FnMut(usize, &Progress),
    on_done: &mut dyn FnMut(usize, TrainedProbe) -> Result<()>,
) -> Result<()> {
    let Some(first) = cfgs.first() else { return Ok(()) };
    if cfgs.len() > 1 {
        let key = group_key(first);
        ensure!(key.is_some() && cfgs.iter().all(|c| group_key(c) == key), "these configs cannot share batches");
    }
    ensure!(cfgs.iter().all(supports), "the grouped trainer takes probes with at most one hidden layer");
    if !first.early_stopping && first.max_num_epochs.is_none() {
        bail!("no termination criteria: set `early_stopping` or `max_num_epochs`");
    }
    crate::denormals::flush_denormals_on_this_thread();
    let (dim, attrs) = (data.dim, data.attrs);
    let k = attrs.num_outputs;
    let mut py = first.seed.map_or_else(data::fresh_random, PyRandom::new);
    let seeded = |stream: u64| {
        let mut rng = first.seed.map_or_else(ChaCha8Rng::from_os_rng, |s| ChaCha8Rng::seed_from_u64(s as u64));
        rng.set_stream(stream);
        rng
    };
    let mut input_rng = seeded(1);

    let (scaler, x_train, x_valid) = super::standardised(data, first.data_standardization);
    let n = data.train.len();
    let batch = first.batch_size.min(n);
    let dropout = Dropout::new(first.dropout_p);
    // Every config of a group has the same dataset (it is part of the group key).
    let scorer = eval::SplitScorer::new(&attrs, &first.dataset, &data.valid)?;

    let mut members = Vec::with_capacity(cfgs.len());
    let mut stacked =
        Stacked { weight: vec![], bias: vec![], m_weight: vec![], v_weight: vec![], m_bias: vec![], v_bias: vec![] };
    for (index, cfg) in cfgs.iter().enumerate() {
        let mut rng = seeded(0);
        let hidden = cfg.hidden_layer_sizes.first().copied();
        let width = hidden.unwrap_or(k);
        let (weight, bias) = torch_linear_init(&mut rng, width, dim);
        stacked.weight.extend(weight);
        stacked.bias.extend(bias);
        let head = hidden.map(|h| {
            let (weight, bias) = torch_linear_init(&mut rng, k, h);
            Head {
                moments: [vec![0.0; k * h], vec![0.0; k * h], vec![0.0; k], vec![0.0; k]],
                grad_weight: vec![0.0; k * h],
                grad_bias: vec![0.0; k],
                weight,
                bias,
            }
        });
        members.push(Member {
            index,
            width,
            lr: cfg.learning_rate,
            weight_decay: cfg.l2_weight_decay.unwrap_or(0.0),
            head,
            rng,
            best: f64::NEG_INFINITY,
            boredom: 0,
            best_state: None,
            flops: 0.0,
        });
    }
    for buffer in [&mut stacked.m_weight, &mut stacked.v_weight] {
        *buffer = vec![0.0; stacked.weight.len()];
    }
    for buffer in [&mut stacked.m_bias, &mut stacked.v_bias] {
        *buffer = vec![0.0; stacked.bias.len()];
    }

    let finish =
        |m: &Member, params: Params, steps: usize, on_done: &mut dyn FnMut(usize, TrainedProbe) -> Result<()>| {
            let logits = member_logits(&params, &x_valid, (dim, k), threads());
            let valid_metrics = scorer.metrics(&logits)?;
            let mut layers = vec![(params.weight, params.bias)];
            layers.extend(params.head);
            let model = SimpleMlp::from_torch_layers(layers, cfgs[m.index].dropout_p)?;
            on_done(
                m.index,
                TrainedProbe {
                    cfg: cfgs[m.index].clone(),
                    scaler: scaler.clone(),
                    model,
                    steps,
                    flops: m.flops,
                    valid_metrics,
                },
            )
        };

    let mut step = 0usize;
    let mut scratch = Scratch::default();
    while !members.is_empty() {
        let threads = threads();
        let epoch = (step * first.batch_size) as f64 / n as f64;
        // As the reference, stopping on the epoch limit keeps the last weights, not the best.
        if first.max_num_epochs.is_some_and(|max| epoch > max) {
            let mut offset = 0;
            for m in std::mem::take(&mut members) {
                let params = member_params(&m, &stacked, offset, dim);
                offset += m.width;
                finish(&m, params, step, on_done)?;
            }
            break;
        }
        if first.early_stopping && step.is_multiple_of(first.early_stopping_eval_frequency) {
            // Members that have waited long enough leave with their best weights.
            let mut i = 0;
            while i < members.len() {
                if members[i].boredom >= cfgs[members[i].index].early_stopping_boredom {
                    let offset = offset_of(&members, i);
                    let params = match members[i].best_state.take() {
                        Some(best) => best,
                        None => member_params(&members[i], &stacked, offset, dim),
                    };
                    let m = remove_member(&mut members, &mut stacked, i, dim);
                    finish(&m, params, step, on_done)?;
                } else {
                    i += 1;
                }
            }
            if members.is_empty() {
                break;
            }
            let logits = stacked_logits(&members, &stacked, &x_valid, (dim, k), threads, &mut scratch.eval_pre);
            let mut offset = 0;
            for (m, logits) in members.iter_mut().zip(logits) {
                let cfg = &cfgs[m.index];
                let score = scorer.score(&logits, &cfg.early_stopping_metric)?;
                if score.is_nan() {
                    bail!("config {}: validation score is NaN at step {step}", cfg.uid());
                }
                if score > m.best {
                    m.best = score;
                    m.boredom = 0;
                    m.best_state = Some(member_params(m, &stacked, offset, dim));
                } else {
                    m.boredom += 1;
                }
                on_eval(m.index, &Progress { step, epoch, score, best_score: m.best, boredom: m.boredom });
                m.flops += products_flops(data.valid.len(), dim, m.width, m.head.is_some(), k, false);
                offset += m.width;
            }
        }

        let rows = py.sample_indices(n, batch);
        train_step(
            &mut members,
            &mut stacked,
            &mut scratch,
            &x_train,
            dim,
            &rows,
            data,
            &dropout,
            &mut input_rng,
            step,
            threads,
        );
        step += 1;
    }
    Ok(())
}

/// The first row of member `i` in the stacked first layer.
fn offset_of(members: &[Member], i: usize) -> usize {
    members[..i].iter().map(|m| m.width).sum()
}

fn member_params(m: &Member, stacked: &Stacked, offset: usize, dim: usize) -> Params {
    Params {
        weight: stacked.weight[offset * dim..(offset + m.width) * dim].to_vec(),
        bias: stacked.bias[offset..offset + m.width].to_vec(),
        head: m.head.as_ref().map(|h| (h.weight.clone(), h.bias.clone())),
    }
}

/// Take member `i` out of the group, and its rows out of the stacked first layer.
fn remove_member(members: &mut Vec<Member>, stacked: &mut Stacked, i: usize, dim: usize) -> Member {
    let (offset, width) = (offset_of(members, i), members[i].width);
    for buffer in [&mut stacked.weight, &mut stacked.m_weight, &mut stacked.v_weight] {
        buffer.drain(offset * dim..(offset + width) * dim);
    }
    for buffer in [&mut stacked.bias, &mut stacked.m_bias, &mut stacked.v_bias] {
        buffer.drain(offset..offset + width);
    }
    members.remove(i)
}

/// Dropout masks: element i is kept when the i-th field of `bits` random bits is below
/// `keep · 2^bits`. The narrowest field that represents `keep` exactly is used, so the mask is
/// exactly Bernoulli(keep) while the paper's p (0.25, 0.5, 0.75) need one or two random bits per
/// element instead of 32 (generating them was a visible share of a step). Up to 8 bits, each
/// random byte is turned into its mask values through a table of all 256.
struct Dropout {
    threshold: u32,
    bits: u32,
    scale: f32,
    on: bool,
    /// For `bits` ≤ 8: the `8 / bits` mask values of every byte, byte after byte.
    table: Vec<f32>,
}

impl Dropout {
    fn new(p: f64) -> Self {
        let keep = 1.0 - p;
        let bits =
            [1u32, 2, 4, 8, 16].into_iter().find(|&b| (keep * f64::from(1u32 << b)).fract() == 0.0).unwrap_or(32);
        let threshold = (keep * 2f64.powi(bits as i32)).min(f64::from(u32::MAX)) as u32;
        let scale = (1.0 / keep) as f32;
        let keep_value = |draw: u32| scale * f32::from(u8::from(draw < threshold));
        let table = if bits <= 8 {
            let per_byte = 8 / bits;
            let field = (1u32 << bits) - 1;
            (0..256u32).flat_map(|byte| (0..per_byte).map(move |j| keep_value((byte >> (j * bits)) & field))).collect()
        } else {
            Vec::new()
        };
        Self { threshold, bits, scale, on: p > 0.0, table }
    }

    /// `mask[i]` = scale or 0, from `len` fields of `bits` random bits read from `bytes` (reused
    /// between calls).
    fn draw(&self, rng: &mut ChaCha8Rng, mask: &mut Vec<f32>, bytes: &mut Vec<u8>, len: usize) {
        mask.resize(len, 0.0);
        if !self.on {
            mask.fill(1.0);
            return;
        }
        if self.bits <= 8 {
            let per_byte = (8 / self.bits) as usize;
            bytes.resize(len.div_ceil(per_byte), 0);
            rng.fill_bytes(bytes);
            for (values, &byte) in mask.chunks_mut(per_byte).zip(bytes.iter()) {
                let start = usize::from(byte) * per_byte;
                values.copy_from_slice(&self.table[start..start + values.len()]);
            }
            return;
        }
        let width = (self.bits / 8) as usize;
        bytes.resize(len * width, 0);
        rng.fill_bytes(bytes);
        let (scale, threshold) = (self.scale, self.threshold);
        // Branch-free: the mask is random, so a branch would be mispredicted half the time.
        let keep = |draw: u32| scale * f32::from(u8::from(draw < threshold));
        match width {
            2 => mask
                .iter_mut()
                .zip(bytes.chunks_exact(2))
                .for_each(|(m, b)| *m = keep(u32::from(u16::from_le_bytes([b[0], b[1]])))),
            _ => mask
                .iter_mut()
                .zip(bytes.chunks_exact(4))
                .for_each(|(m, b)| *m = keep(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
        }
    }
}

/// Buffers reused from step to step.
#[derive(Default)]
struct Scratch {
    eval_pre: Vec<f32>,
    mask_bytes: Vec<u8>,
    input: Vec<f32>,
    input_mask: Vec<f32>,
    pre: Vec<f32>,
    grad_pre: Vec<f32>,
    grad_weight: Vec<f32>,
    grad_bias: Vec<f32>,
    hidden: Vec<f32>,
    hidden_mask: Vec<f32>,
    logits: Vec<f32>,
    grad_hidden: Vec<f32>,
}

/// One Adam step of every member on the batch `rows`.
#[allow(clippy::too_many_arguments)]
fn train_step(
    members: &mut [Member],
    stacked: &mut Stacked,
    s: &mut Scratch,
    x: &[f32],
    dim: usize,
    rows: &[usize],
    data: &ProbeData,
    dropout: &Dropout,
    input_rng: &mut ChaCha8Rng,
    step: usize,
    threads: usize,
) {
    let (b, total, k) = (rows.len(), stacked.bias.len(), data.attrs.num_outputs);
    // The batch, through the group's input-dropout mask.
    dropout.draw(input_rng, &mut s.input_mask, &mut s.mask_bytes, b * dim);
    s.input.resize(b * dim, 0.0);
    for ((&r, out), mask) in rows.iter().zip(s.input.chunks_exact_mut(dim)).zip(s.input_mask.chunks_exact(dim)) {
        masked(out, &x[r * dim..(r + 1) * dim], mask);
    }
    // Every member's first layer: one product.
    s.pre.resize(b * total, 0.0);
    matmul(
        (b, total, dim),
        (&mut s.pre, total),
        row_major(&s.input, dim),
        transposed(&stacked.weight, dim),
        false,
        threads,
    );

    // Each member's loss gradient with respect to its first layer's outputs (and its bias).
    s.grad_pre.resize(b * total, 0.0);
    s.grad_bias.resize(total, 0.0);
    let mut offset = 0;
    for m in members.iter_mut() {
        let w = m.width;
        let bias = &stacked.bias[offset..offset + w];
        let bias_grad = &mut s.grad_bias[offset..offset + w];
        match &mut m.head {
            None => {
                s.logits.clear();
                for row in s.pre.chunks_exact(total) {
                    s.logits.extend(row[offset..offset + k].iter().zip(bias).map(|(z, b)| z + b));
                }
                loss_gradient(data.attrs.output_type, &data.train.targets, rows, k, &mut s.logits);
                for (g, l) in s.grad_pre.chunks_exact_mut(total).zip(s.logits.chunks_exact(k)) {
                    g[offset..offset + k].copy_from_slice(l);
                }
                column_sums(&s.logits, k, 0, bias_grad);
            }
            Some(head) => {
                dropout.draw(&mut m.rng, &mut s.hidden_mask, &mut s.mask_bytes, b * w);
                s.hidden.resize(b * w, 0.0);
                for ((row, out), mask) in
                    s.pre.chunks_exact(total).zip(s.hidden.chunks_exact_mut(w)).zip(s.hidden_mask.chunks_exact(w))
                {
                    bias_relu_masked(out, &row[offset..offset + w], bias, mask);
                }
                s.logits.resize(b * k, 0.0);
                matmul((b, k, w), (&mut s.logits, k), row_major(&s.hidden, w), transposed(&head.weight, w), false, 1);
                add_bias(&mut s.logits, k, 0, &head.bias);
                loss_gradient(data.attrs.output_type, &data.train.targets, rows, k, &mut s.logits);
                matmul(
                    (k, w, b),
                    (&mut head.grad_weight, w),
                    transposed(&s.logits, k),
                    row_major(&s.hidden, w),
                    false,
                    1,
                );
                column_sums(&s.logits, k, 0, &mut head.grad_bias);
                s.grad_hidden.resize(b * w, 0.0);
                matmul(
                    (b, w, k),
                    (&mut s.grad_hidden, w),
                    row_major(&s.logits, k),
                    row_major(&head.weight, w),
                    false,
                    1,
                );
                bias_grad.fill(0.0);
                for ((g, hidden), gh) in
                    s.grad_pre.chunks_exact_mut(total).zip(s.hidden.chunks_exact(w)).zip(s.grad_hidden.chunks_exact(w))
                {
                    relu_masked_backward(&mut g[offset..offset + w], hidden, gh, dropout.scale, bias_grad);
                }
            }
        }
        offset += w;
    }

    // Every member's first-layer gradient: one more product (no input gradient is needed).
    s.grad_weight.resize(total * dim, 0.0);
    matmul(
        (total, dim, b),
        (&mut s.grad_weight, dim),
        transposed(&s.grad_pre, total),
        row_major(&s.input, dim),
        false,
        threads,
    );

    let t = i32::try_from(step + 1).unwrap_or(i32::MAX);
    let mut offset = 0;
    for m in members.iter_mut() {
        m.flops += products_flops(b, dim, m.width, m.head.is_some(), k, true);
        let update = AdamUpdate::new(m.lr, m.weight_decay, t);
        let (rows, cols) = (offset..offset + m.width, offset * dim..(offset + m.width) * dim);
        apply_parallel(
            &update,
            &mut stacked.weight[cols.clone()],
            &s.grad_weight[cols.clone()],
            &mut stacked.m_weight[cols.clone()],
            &mut stacked.v_weight[cols],
            threads,
        );
        update.apply(
            &mut stacked.bias[rows.clone()],
            &s.grad_bias[rows.clone()],
            &mut stacked.m_bias[rows.clone()],
            &mut stacked.v_bias[rows],
        );
        if let Some(h) = &mut m.head {
            let [mw, vw, mb, vb] = &mut h.moments;
            update.apply(&mut h.weight, &h.grad_weight, mw, vw);
            update.apply(&mut h.bias, &h.grad_bias, mb, vb);
        }
        offset += m.width;
    }
}

/// The multiply-adds (×2) of one member's products for `rows` rows: the first layer and the head
/// forward, and in training their weight gradients and the head's input gradient.
fn products_flops(rows: usize, dim: usize, width: usize, head: bool, k: usize, training: bool) -> f64 {
    let (first, head) = ((rows * dim * width) as f64, if head { (rows * width * k) as f64 } else { 0.0 });
    if training {
        2.0 * (2.0 * first + 3.0 * head)
    } else {
        2.0 * (first + head)
    }
}

/// Adam over a large buffer, split over `threads` tasks of the current rayon pool.
fn apply_parallel(update: &AdamUpdate, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], threads: usize) {
    if threads <= 1 || p.len() < 1 << 16 {
        return update.apply(p, g, m, v);
    }
    let chunk = p.len().div_ceil(threads);
    rayon::scope(|scope| {
        for (((p, g), m), v) in
            p.chunks_mut(chunk).zip(g.chunks(chunk)).zip(m.chunks_mut(chunk)).zip(v.chunks_mut(chunk))
        {
            scope.spawn(move |_| update.apply(p, g, m, v));
        }
    });
}

/// Eval-mode logits (`n × k`) of every member for the standardised rows `x`.
fn stacked_logits(
    members: &[Member],
    stacked: &Stacked,
    x: &[f32],
    (dim, k): (usize, usize),
    threads: usize,
    pre: &mut Vec<f32>,
) -> Vec<Vec<f32>> {
    let heads = members.iter().map(|m| (m.width, m.head.as_ref().map(|h| (h.weight.as_slice(), h.bias.as_slice()))));
    eval_logits(x, (dim, k), (&stacked.weight, &stacked.bias), heads, threads, pre)
}

/// Eval-mode logits of one member's parameters.
fn member_logits(p: &Params, x: &[f32], (dim, k): (usize, usize), threads: usize) -> Vec<f32> {
    let head = p.head.as_ref().map(|(w, b)| (w.as_slice(), b.as_slice()));
    let heads = std::iter::once((p.bias.len(), head));
    eval_logits(x, (dim, k), (&p.weight, &p.bias), heads, threads, &mut Vec::new()).pop().expect("one member")
}

/// Eval-mode logits for first layers stacked as `Σwidths × dim` (one product for all of them),
/// each followed by its head (`None`: a linear probe), given as `(width, head)` in stacking order.
fn eval_logits<'a>(
    x: &[f32],
    (dim, k): (usize, usize),
    (weight, bias): (&[f32], &[f32]),
    heads: impl Iterator<Item = (usize, Option<(&'a [f32], &'a [f32])>)>,
    threads: usize,
    pre: &mut Vec<f32>,
) -> Vec<Vec<f32>> {
    let (n, total) = (x.len() / dim, bias.len());
    // Every element is written by the product: no need to clear what the last call left.
    pre.resize(n * total, 0.0);
    matmul((n, total, dim), (pre, total), row_major(x, dim), transposed(weight, dim), false, threads);
    let mut offset = 0;
    heads
        .map(|(width, head)| {
            let logits = head_logits(pre, total, offset, &bias[offset..offset + width], head, k);
            offset += width;
            logits
        })
        .collect()
}

/// From first-layer outputs before their bias (columns `offset..offset + bias.len()` of rows
/// `row_len` long) to logits: the columns plus the bias for a linear probe, else bias, ReLU (in
/// place) and the head.
fn head_logits(
    pre: &mut [f32],
    row_len: usize,
    offset: usize,
    bias: &[f32],
    head: Option<(&[f32], &[f32])>,
    k: usize,
) -> Vec<f32> {
    let (n, width) = (pre.len() / row_len, bias.len());
    let Some((head_weight, head_bias)) = head else {
        return pre
            .chunks_exact(row_len)
            .flat_map(|row| row[offset..offset + width].iter().zip(bias).map(|(z, b)| z + b))
            .collect();
    };
    bias_relu_in_place(pre, row_len, offset, bias);
    let mut logits = vec![0.0; n * k];
    let hidden = (&pre[offset..], row_len, 1);
    matmul((n, k, width), (&mut logits, k), hidden, transposed(head_weight, width), false, 1);
    add_bias(&mut logits, k, 0, head_bias);
    logits
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each mask element is scale with probability keep, else 0, and neighbours (fields of one
    /// word) are independent: the kept fraction and the kept-pair fraction are within 5 SE.
    #[test]
    fn dropout_masks_keep_each_element_with_probability_keep() {
        for (p, bits) in [(0.25, 2), (0.5, 1), (0.75, 2), (0.1, 32), (0.0, 1)] {
            let dropout = Dropout::new(p);
            assert!(!dropout.on || dropout.bits == bits, "p {p}: {} bits", dropout.bits);
            let (mut mask, mut bytes) = (Vec::new(), Vec::new());
            let mut rng = ChaCha8Rng::seed_from_u64(7);
            let n = 200_003;
            dropout.draw(&mut rng, &mut mask, &mut bytes, n);
            assert_eq!(mask.len(), n);
            let keep = 1.0 - p;
            let scale = (1.0 / keep) as f32;
            assert!(mask.iter().all(|&m| m == 0.0 || m == scale), "p {p}");
            let kept = mask.iter().filter(|&&m| m != 0.0).count() as f64 / n as f64;
            let se = (keep * (1.0 - keep) / n as f64).sqrt();
            assert!((kept - keep).abs() <= 5.0 * se + 1e-12, "p {p}: kept {kept}");
            let pairs = mask.windows(2).filter(|w| w[0] != 0.0 && w[1] != 0.0).count() as f64 / (n - 1) as f64;
            let pair_se = (keep * keep * (1.0 - keep * keep) / n as f64).sqrt();
            assert!((pairs - keep * keep).abs() <= 5.0 * pair_se + 1e-12, "p {p}: pairs {pairs}");
        }
    }
}
