"""The PyTorch speed anchor of bench/precision.R, run on the same machine.

The workload of ../shared/reference-notes.md, section 7: random correlated
Gaussian data, standardised, of banknote's shape (1372 x 4, latent 3) and
breast cancer's (569 x 30, latent 29); the first D // 2 columns missing where
above their mean; not-MIWAE with encoder and decoder 2 x 128 tanh, Gaussian
p(x | z) with a softplus scale, self-masking with known sign, K = 20 samples,
batch 16, Adam at 1e-3, float32 (or float64), one thread. Training: seconds
per 1000 iterations after 50 warm-up iterations; imputation: every row of the
banknote-shaped data, L = 10,000 samples in one forward pass per row,
self-normalised conditional mean of the decoder means. Median of `repeats`.

    python3 bench/pytorch_anchor.py [repeats] > bench/results/pytorch_anchor.csv

Prints CSV rows: what, p, dtype, repeat, seconds. Link an optimised BLAS
(Debian's torch uses the system libblas.so.3, which is the reference BLAS
unless an alternative is installed) as the notes describe.
"""
import math
import sys
import time

import numpy as np
import torch

torch.set_num_threads(1)


def make_data(n, d, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(d, d))
    x = rng.normal(size=(n, d)) @ a
    x = (x - x.mean(0)) / x.std(0)
    mask = np.ones_like(x)
    half = d // 2
    mask[:, :half] = (x[:, :half] <= x[:, :half].mean(0)).astype(float)
    return x, mask


class NotMiwae(torch.nn.Module):
    def __init__(self, d, latent, hidden=128):
        super().__init__()
        self.latent = latent
        self.encoder = torch.nn.Sequential(
            torch.nn.Linear(d, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, hidden), torch.nn.Tanh(),
            torch.nn.Linear(hidden, 2 * latent))
        self.decoder = torch.nn.Sequential(
            torch.nn.Linear(latent, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, hidden), torch.nn.Tanh(),
            torch.nn.Linear(hidden, 2 * d))
        self.mask_slope = torch.nn.Parameter(torch.zeros(d))
        self.mask_location = torch.nn.Parameter(torch.zeros(d))

    def weights(self, x, s, k):
        h = self.encoder(x)
        mu_z, log_var = h[:, :self.latent], h[:, self.latent:]
        sd_z = torch.exp(0.5 * log_var)
        z = mu_z + sd_z * torch.randn(k, *mu_z.shape, dtype=x.dtype)
        out = self.decoder(z)
        mu_x, sd_x = out[..., :x.shape[1]], torch.nn.functional.softplus(out[..., x.shape[1]:]) + 1e-4
        x_draw = mu_x + sd_x * torch.randn_like(mu_x)
        x_full = s * x + (1 - s) * x_draw
        log_px = (s * torch.distributions.Normal(mu_x, sd_x).log_prob(x)).sum(-1)
        logit = -torch.nn.functional.softplus(self.mask_slope) * (x_full - self.mask_location)
        log_ps = (s * torch.nn.functional.logsigmoid(logit) + (1 - s) * torch.nn.functional.logsigmoid(-logit)).sum(-1)
        log_pz = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
        log_qz = torch.distributions.Normal(mu_z, sd_z).log_prob(z).sum(-1)
        return log_px + log_ps + log_pz - log_qz, mu_x

    def bound(self, x, s, k):
        lw, _ = self.weights(x, s, k)
        return (torch.logsumexp(lw, 0) - math.log(k)).mean()


def time_training(d, dtype, iterations=1000, warmup=50):
    n = 1372 if d == 4 else 569
    x, s = make_data(n, d, 1)
    x = torch.tensor(x * s, dtype=dtype)
    s = torch.tensor(s, dtype=dtype)
    model = NotMiwae(d, d - 1).to(dtype)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = np.random.default_rng(2)

    def step():
        rows = torch.tensor(gen.integers(0, n, 16))
        opt.zero_grad()
        loss = -model.bound(x[rows], s[rows], 20)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    started = time.perf_counter()
    for _ in range(iterations):
        step()
    return time.perf_counter() - started


def time_imputation(dtype, samples=10000):
    x, s = make_data(1372, 4, 1)
    x = torch.tensor(x * s, dtype=dtype)
    s = torch.tensor(s, dtype=dtype)
    model = NotMiwae(4, 3).to(dtype)
    started = time.perf_counter()
    with torch.no_grad():
        for i in range(x.shape[0]):
            lw, mu_x = model.weights(x[i:i + 1], s[i:i + 1], samples)
            w = torch.softmax(lw[:, 0], 0)
            _ = (w[:, None] * mu_x[:, 0, :]).sum(0)
    return time.perf_counter() - started


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    print("what,p,dtype,repeat,seconds")
    for r in range(repeats):
        for d in (4, 30):
            for name, dtype in (("float32", torch.float32), ("float64", torch.float64)):
                print(f"training_per_1000,{d},{name},{r + 1},{time_training(d, dtype):.4f}", flush=True)
        print(f"imputation,4,float32,{r + 1},{time_imputation(torch.float32):.3f}", flush=True)


if __name__ == "__main__":
    main()
