//! `torch.optim.Adam` (not AdamW): the weight decay is an L2 term added to the gradient before
//! the moment updates, which is what the reference's `l2_weight_decay` means.

use anyhow::{Context, Result};
use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

pub struct Adam {
    vars: Vec<Var>,
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    step: i32,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
}

impl Adam {
    /// torch's defaults: betas (0.9, 0.999), eps 1e-8.
    pub fn new(vars: Vec<Var>, lr: f64, weight_decay: f64) -> Result<Self> {
        let m = vars.iter().map(|v| v.zeros_like()).collect::<candle_core::Result<Vec<_>>>()?;
        let v = m.clone();
        Ok(Self { vars, lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay, step: 0, m, v })
    }

    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.step += 1;
        let bias1 = 1.0 - self.beta1.powi(self.step);
        let bias2 = 1.0 - self.beta2.powi(self.step);
        for (i, var) in self.vars.iter().enumerate() {
            // Detached: an op on the variable itself would record it, and every step's moments
            // would then keep the previous step's alive (memory grew by a batch per step).
            let param = var.as_tensor().detach();
            let mut g = grads.get(var).context("a parameter received no gradient")?.detach();
            if self.weight_decay != 0.0 {
                g = (g + (&param * self.weight_decay)?)?;
            }
            self.m[i] = ((&self.m[i] * self.beta1)? + (&g * (1.0 - self.beta1))?)?;
            self.v[i] = ((&self.v[i] * self.beta2)? + (g.sqr()? * (1.0 - self.beta2))?)?;
            // torch: denom = sqrt(v) / sqrt(bias2) + eps; p -= lr / bias1 * m / denom.
            let denom = ((self.v[i].sqrt()? / bias2.sqrt())? + self.eps)?;
            let update = ((&self.m[i] / denom)? * (self.lr / bias1))?;
            var.set(&(param - update)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// With weight decay the moments once recorded the op on the variable, so each step's
    /// moments kept the previous step's graph alive: memory grew without bound over a grid.
    #[test]
    fn moments_record_no_graph() {
        let p = Var::from_tensor(&Tensor::new(&[1.0f32, -2.0], &Device::Cpu).unwrap()).unwrap();
        let mut opt = Adam::new(vec![p.clone()], 0.1, 1e-3).unwrap();
        for _ in 0..3 {
            let loss = p.as_tensor().sqr().unwrap().sum_all().unwrap();
            opt.step(&loss.backward().unwrap()).unwrap();
        }
        assert!(opt.m.iter().chain(&opt.v).all(|t| !t.track_op()));
        assert!(!p.as_tensor().detach().track_op());
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
