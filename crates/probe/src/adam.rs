//! `torch.optim.Adam` (not AdamW): the weight decay is an L2 term added to the gradient before
//! the moment updates, which is what the reference's `l2_weight_decay` means.

use anyhow::{Context, Result};
use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

pub struct Adam {
    vars: Vec<Var>,
    lr: f64,
    weight_decay: f64,
    step: i32,
    /// First and second moments, one flat buffer per variable.
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
}

impl Adam {
    /// torch's defaults: betas (0.9, 0.999), eps 1e-8.
    pub fn new(vars: Vec<Var>, lr: f64, weight_decay: f64) -> Result<Self> {
        let m: Vec<Vec<f32>> = vars.iter().map(|v| vec![0f32; v.elem_count()]).collect();
        let v = m.clone();
        Ok(Self { vars, lr, weight_decay, step: 0, m, v })
    }

    /// One update of every variable, in one pass over plain buffers: as candle tensor ops, the
    /// dozen element-wise operations per variable (each allocating) were over half of an MLP
    /// probe's step time.
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.step += 1;
        let update = AdamUpdate::new(self.lr, self.weight_decay, self.step);
        for (i, var) in self.vars.iter().enumerate() {
            let grad = grads.get(var).context("a parameter received no gradient")?;
            let grad = grad.flatten_all()?.to_vec1::<f32>()?;
            let tensor = var.as_tensor();
            let mut param = tensor.flatten_all()?.to_vec1::<f32>()?;
            update.apply(&mut param, &grad, &mut self.m[i], &mut self.v[i]);
            var.set(&Tensor::from_vec(param, tensor.shape(), tensor.device())?)?;
        }
        Ok(())
    }
}

/// The constants of one `torch.optim.Adam` step (betas 0.9/0.999, eps 1e-8, L2 added to the
/// gradient), applied to plain buffers: shared by [`Adam`] and the grid's grouped trainer.
#[derive(Debug, Clone, Copy)]
pub struct AdamUpdate {
    b1: f32,
    b2: f32,
    one_minus_b1: f32,
    one_minus_b2: f32,
    sqrt_bias2: f32,
    eps: f32,
    step_size: f32,
    weight_decay: f32,
}

impl AdamUpdate {
    /// The update of step `step` (1 for the first) with learning rate `lr`.
    pub fn new(lr: f64, weight_decay: f64, step: i32) -> Self {
        let (beta1, beta2, eps) = (0.9f64, 0.999f64, 1e-8f64);
        let bias1 = 1.0 - beta1.powi(step);
        let bias2 = 1.0 - beta2.powi(step);
        // torch: denom = sqrt(v) / sqrt(bias2) + eps; p -= lr / bias1 * m / denom.
        Self {
            b1: beta1 as f32,
            b2: beta2 as f32,
            one_minus_b1: (1.0 - beta1) as f32,
            one_minus_b2: (1.0 - beta2) as f32,
            sqrt_bias2: bias2.sqrt() as f32,
            eps: eps as f32,
            step_size: (lr / bias1) as f32,
            weight_decay: weight_decay as f32,
        }
    }

    /// Update `param` in place from its gradient and moments (all the same length).
    pub fn apply(&self, param: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]) {
        assert!(grad.len() == param.len() && m.len() == param.len() && v.len() == param.len());
        adam_update(self, param, grad, m, v);
    }
}

crate::train::kernels::wide_when_possible! {
    fn adam_update(update: &AdamUpdate, param: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]) {
        let AdamUpdate { b1, b2, one_minus_b1, one_minus_b2, sqrt_bias2, eps, step_size, weight_decay: wd } = *update;
        for (((p, &g), m), v) in param.iter_mut().zip(grad).zip(m.iter_mut()).zip(v.iter_mut()) {
            let g = if wd != 0.0 { g + *p * wd } else { g };
            *m = *m * b1 + g * one_minus_b1;
            *v = *v * b2 + g * g * one_minus_b2;
            *p -= step_size * (*m / (v.sqrt() / sqrt_bias2 + eps));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// With weight decay the moments once recorded the op on the variable, so each step's
    /// moments kept the previous step's graph alive: memory grew without bound over a grid. The
    /// moments are plain buffers now; the variable must not record a graph either.
    #[test]
    fn moments_record_no_graph() {
        let p = Var::from_tensor(&Tensor::new(&[1.0f32, -2.0], &Device::Cpu).unwrap()).unwrap();
        let mut opt = Adam::new(vec![p.clone()], 0.1, 1e-3).unwrap();
        for _ in 0..3 {
            let loss = p.as_tensor().sqr().unwrap().sum_all().unwrap();
            opt.step(&loss.backward().unwrap()).unwrap();
        }
        assert!(opt.m[0].iter().chain(&opt.v[0]).all(|x| x.is_finite() && *x != 0.0));
    }

    /// Hand-computed torch Adam on f(p) = p² from p = 1 with lr 0.1 and weight decay 0.5: the
    /// first step moves by exactly lr (m̂/√v̂ = 1), whatever the gradient's size.
    #[test]
    fn first_step_is_lr_and_decay_enters_gradient() {
        let p = Var::from_tensor(&Tensor::new(&[1.0f32], &Device::Cpu).unwrap()).unwrap();
        let mut opt = Adam::new(vec![p.clone()], 0.1, 0.5).unwrap();
        let loss = p.as_tensor().sqr().unwrap().sum_all().unwrap();
        opt.step(&loss.backward().unwrap()).unwrap();
        let after = p.as_tensor().to_vec1::<f32>().unwrap()[0];
        assert!((after - 0.9).abs() < 1e-6, "{after}");
        // Second step: g = 2p + 0.5p = 2.25 at p = 0.9; first g was 2.5.
        let loss = p.as_tensor().sqr().unwrap().sum_all().unwrap();
        opt.step(&loss.backward().unwrap()).unwrap();
        let (g1, g2) = (2.5f64, 2.25f64);
        let m = 0.9 * 0.1 * g1 + 0.1 * g2;
        let v = 0.999 * 0.001 * g1 * g1 + 0.001 * g2 * g2;
        let want = 0.9 - 0.1 / (1.0 - 0.81) * m / ((v / (1.0 - 0.999f64.powi(2))).sqrt() + 1e-8);
        let after = p.as_tensor().to_vec1::<f32>().unwrap()[0];
        assert!((after as f64 - want).abs() < 1e-6, "{after} vs {want}");
    }
}
