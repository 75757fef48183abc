#!/usr/bin/env python3
"""PyTorch side of `jukemir bench jukebox`: the Jukebox 5B top prior's transformer blocks at full
size (8192 positions × width 4800 by default) with random weights, one block of each attention
type (block, transpose-block, previous-block), timed one forward each.

The blocks re-state OpenAI jukebox's `ResAttnBlock` / `FactoredAttention` / `MLP` / `Conv1D`
(commit 08efbbc, as docs/jukebox.md §3 describes them): pre-LayerNorm, `addmm(b, x, w.type_as(x))`
with the weights held in float16 as `fp16_params=True` makes them, 8 heads, scores scaled by
1/sqrt(head dim), the -1e9 causal mask, quick-GELU. `--dtype bf16` runs activations and weights in
bfloat16 instead (what a GPU user would do; on CPU it is informational).

Prints one JSON line: seconds per block, the dtype and the thread count. Peak memory is measured by
the caller (wait4). Needs torch (tools/reference/requirements-torch.txt: torch 2.1.2).
"""
import argparse
import json
import math
import time

import torch


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


class Conv1D(torch.nn.Module):
    def __init__(self, n_in, n_out, weight_dtype):
        super().__init__()
        self.w = torch.nn.Parameter((torch.randn(n_in, n_out) * 0.02).to(weight_dtype), requires_grad=False)
        self.b = torch.nn.Parameter(torch.zeros(n_out), requires_grad=False)

    def forward(self, x):
        size_out = (*x.size()[:-1], self.w.shape[1])
        x = torch.addmm(self.b.type_as(x), x.view(-1, x.size(-1)), self.w.type_as(x))
        return x.view(*size_out)


class Block(torch.nn.Module):
    def __init__(self, width, heads, n_ctx, blocks, attn_func, weight_dtype):
        super().__init__()
        self.n_state, self.heads, self.attn_func = width // 4, heads, attn_func
        self.block_ctx = n_ctx // blocks
        self.ln_0 = torch.nn.LayerNorm(width)
        self.ln_1 = torch.nn.LayerNorm(width)
        self.c_attn = Conv1D(width, 3 * self.n_state, weight_dtype)
        self.c_proj = Conv1D(self.n_state, width, weight_dtype)
        self.c_fc = Conv1D(width, width, weight_dtype)
        self.mlp_proj = Conv1D(width, width, weight_dtype)

    def split_heads(self, x, k=False):
        x = x.view(*x.size()[:-1], self.heads, x.size(-1) // self.heads)
        return x.permute(0, 2, 3, 1) if k else x.permute(0, 2, 1, 3)

    def dense(self, q, k, v, causal):
        q, k, v = self.split_heads(q), self.split_heads(k, k=True), self.split_heads(v)
        scale = 1.0 / math.sqrt(math.sqrt(self.n_state // self.heads))
        w = torch.matmul(q, k)
        w.mul_(scale * scale)
        if causal:
            mask = torch.ones(w.shape[-2], w.shape[-1], device=w.device, dtype=w.dtype).tril()
            w = w * mask + -1e9 * (1 - mask)
        w = torch.softmax(w.float(), dim=-1).type_as(q)
        a = torch.matmul(w, v)
        a = a.permute(0, 2, 1, 3).contiguous()
        return a.view(*a.size()[:-2], a.size(-2) * a.size(-1))

    def attention(self, x):
        q, k, v = self.c_attn(x).chunk(3, dim=2)
        bs, l, d = v.shape
        bc = self.block_ctx
        if self.attn_func == 1:
            a = self.dense(q.view(bs * l // bc, bc, d), k.view(bs * l // bc, bc, d), v.view(bs * l // bc, bc, d), True)
            a = a.view(bs, l, d)
        elif self.attn_func == 2:
            t = lambda z: z.view(bs, l // bc, bc, d).transpose(1, 2).contiguous().view(bs * bc, l // bc, d)
            a = self.dense(t(q), t(k), t(v), True)
            a = a.view(bs, bc, l // bc, d).transpose(1, 2).contiguous().view(bs, l, d)
        else:
            prev = lambda z: torch.nn.functional.pad(z.view(bs, l // bc, bc, d)[:, :-1], (0, 0, 0, 0, 1, 0)).view(bs * l // bc, bc, d)
            a = self.dense(q.view(bs * l // bc, bc, d), prev(k), prev(v), False).view(bs, l, d)
        return self.c_proj(a)

    def forward(self, x):
        a = self.attention(self.ln_0(x))
        m = self.mlp_proj(quick_gelu(self.c_fc(self.ln_1(x + a))))
        return x + a + m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctx", type=int, default=8192)
    ap.add_argument("--width", type=int, default=4800)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--blocks", type=int, default=128)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    ap.add_argument("--device", default="cpu", help="cpu, or cuda: then each block runs once untimed first")
    args = ap.parse_args()
    device = torch.device(args.device)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    act_dtype = torch.float32 if args.dtype == "f32" else torch.bfloat16
    weight_dtype = torch.float16 if args.dtype == "f32" else torch.bfloat16
    seconds = []
    with torch.no_grad():
        x = torch.randn(1, args.ctx, args.width).to(act_dtype).to(device)
        for attn_func in (1, 2, 3):
            block = Block(args.width, args.heads, args.ctx, args.blocks, attn_func, weight_dtype).to(act_dtype)
            block.c_attn.w.data = block.c_attn.w.data.to(weight_dtype)  # keep fp16/bf16 storage
            block = block.to(device)
            if device.type == "cuda":
                block(x)  # cuBLAS handles and kernels are set up on first use
                torch.cuda.synchronize()
            start = time.perf_counter()
            y = block(x)
            if device.type == "cuda":
                torch.cuda.synchronize()
            seconds.append(time.perf_counter() - start)
            del block, y
    print(json.dumps({"seconds_per_block": seconds, "dtype": args.dtype, "threads": torch.get_num_threads(),
                      "device": str(device)}))


if __name__ == "__main__":
    main()
