"""Training-step throughput of the foundation models: jaxgen vs the same networks in PyTorch.

    pip install -e '.[bench]'           # torch==2.13.0 (CPU), only for this script
    python experiments/benchmark.py --rounds 3 --out experiments/results/benchmark.json

Both sides train the same architecture (DCGAN down/up stacks at width 64, 32x32x1, batch 64) with the
same optimizers and the same number of updates per step (WGAN: 5 critic + 1 generator). style_aae is the
handwriting-style AAE of configs/style_aae.py (GroupNorm convs, AdamW 4e-4, a discriminator update and an
autoencoder update per step) - the original repository's train-aae model, at jaxgen's 32x32 inputs. vae,
ae_mlp and aae are the originals' MLP models (configs of the same names; jaxgen only for now). Runs are
interleaved (jax, torch-1-thread, torch-2-threads, repeat) and the 1-minute load average is recorded
beside each, because this machine is shared. images/s = batch size x training steps per second.

Each jaxgen step also reports its achieved GFLOP/s (XLA's cost analysis of the compiled step, divided by
the measured time) as a fraction of this machine's matmul peak for its operand dtype, float32 or bfloat16
with float32 accumulation, measured at the start of the same run; the CPU model (with its bf16 units) and
the peaks are in the output file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

MODELS = ("classifier", "ae", "gan", "wgan", "style_aae", "vae", "ae_mlp", "aae")
# the MLP models of the original repositories (VAE 784-400-2, MLP AE, AAE 784-1000-1000): jaxgen only so far,
# their PyTorch counterparts are not written yet
TORCH_MODELS = ("classifier", "ae", "gan", "wgan", "style_aae")


# ----------------------------------------------------------------------------------------- jaxgen


def jax_runner(name: str, batch: int, conv_impl: str, steps_per_call: int = 1, dtype: str = "float32"):
    """Return a function that runs `steps_per_call` training steps (one compiled call, blocking)."""
    import importlib.util

    import jax
    from jax.sharding import AxisType, NamedSharding
    from jax.sharding import PartitionSpec as P

    from jaxgen import runtime
    from jaxgen.data import feeds
    from jaxgen.step import make_multi_step

    spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[1] / "configs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = module.get_config()
    config.train.batch_size = batch
    config.runtime.conv_impl = conv_impl
    config.runtime.compute_dtype = dtype
    family = runtime.build_family(config)
    keys = runtime.Keys.from_seed(0)
    mesh = jax.make_mesh((1,), ("data",), axis_types=(AxisType.Auto,), devices=jax.devices()[:1])
    replicated = NamedSharding(mesh, P())
    state = {"ts": jax.device_put(runtime.init_state(family, keys.init), replicated)}
    n = 60_000
    rng = np.random.default_rng(0)
    data = jax.device_put(
        {
            "images": rng.integers(0, 256, (n, 32, 32, 1), dtype=np.uint8),
            "labels": rng.integers(0, 10, (n,)).astype(np.int32),
        },
        replicated,
    )
    plan = feeds.batch_plan(keys.data, 0, n)
    multi_step = make_multi_step(family, batch, mesh, slots=1)
    compiled = multi_step.lower(state["ts"], data, plan, 0, keys.train, steps_per_call).compile()
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost

    def step():
        state["ts"], metrics = multi_step(state["ts"], data, plan, 0, keys.train, steps_per_call)
        jax.block_until_ready((state["ts"], metrics))

    step.flops = float(cost.get("flops", 0.0)) / steps_per_call  # XLA's count for one training step
    return step


def measured_peaks(rounds: int = 3) -> dict[str, float]:
    """GFLOP/s of a 4096x1024 @ 1024x1024 matmul, float32 and bfloat16 operands accumulating in float32:
    this machine's ceiling for each, measured in the same run as the steps."""
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    a = jnp.asarray(rng.random((4096, 1024)), jnp.float32)
    b = jnp.asarray(rng.random((1024, 1024)), jnp.float32)
    ops = {
        "float32": jax.jit(lambda a, b: a @ b),
        "bfloat16": jax.jit(
            lambda a, b: jnp.matmul(
                a.astype(jnp.bfloat16), b.astype(jnp.bfloat16), preferred_element_type=jnp.float32
            )
        ),
    }
    peaks = {}
    for name, op in ops.items():
        op(a, b).block_until_ready()
        best = min(_timed(lambda op=op: op(a, b).block_until_ready()) for _ in range(rounds))
        peaks[name] = 2 * 4096 * 1024 * 1024 / best / 1e9
    return peaks


def cpu_model() -> str:
    """lscpu's model name (the machine a benchmark ran on), else the platform's processor string."""
    import subprocess

    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or platform.machine()
    names = [line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name")]
    flags = [line for line in out.splitlines() if line.startswith("Flags")]
    units = [f for f in ("avx512_bf16", "amx_bf16") if flags and f in flags[0].split()]
    return (names[0] if names else platform.machine()) + (f" ({', '.join(units)})" if units else "")


def _timed(fn, n: int = 10) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


# ----------------------------------------------------------------------------------------- PyTorch


def torch_runner(name: str, batch: int, threads: int, bf16: bool = False):
    """The same networks, losses and optimizers in PyTorch; returns a one-step function.

    bf16: forward passes under CPU autocast to bfloat16 (PyTorch's mixed precision), backward outside it.
    """
    import contextlib

    import torch
    from torch import nn

    def fwd():
        return torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    width, latent = 64, 100

    def down(widths=(64, 128, 256, 512), batch_norm=True):
        layers, c = [], 1
        for i, w in enumerate(widths):
            layers.append(nn.Conv2d(c, w, 4, 2, 1, bias=i == 0 or not batch_norm))
            if i > 0 and batch_norm:
                layers.append(nn.BatchNorm2d(w))
            layers.append(nn.LeakyReLU(0.2))
            c = w
        return nn.Sequential(*layers, nn.Flatten())

    class Up(nn.Module):
        def __init__(self, z_dim, widths=(256, 128, 64)):
            super().__init__()
            self.project = nn.Linear(z_dim, 16 * widths[0], bias=False)
            self.bn0 = nn.BatchNorm2d(widths[0])
            body, c = [], widths[0]
            for w in widths[1:]:
                body += [nn.ConvTranspose2d(c, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
                c = w
            body.append(nn.ConvTranspose2d(c, 1, 4, 2, 1))
            self.body, self.c0 = nn.Sequential(*body), widths[0]

        def forward(self, z):
            return self.body(torch.relu(self.bn0(self.project(z).view(-1, self.c0, 4, 4))))

    flat = 2 * 2 * 8 * width
    x = torch.rand(batch, 1, 32, 32)
    y = torch.randint(0, 10, (batch,))
    adam = dict(lr=2e-4, betas=(0.5, 0.999))

    if name == "classifier":
        net = nn.Sequential(down(), nn.Linear(flat, 10))
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)

        def step():
            opt.zero_grad(set_to_none=True)
            with fwd():
                loss = nn.functional.cross_entropy(net(x), y)
            loss.backward()
            opt.step()

        return step
    if name == "ae":
        enc, dec = nn.Sequential(down(), nn.Linear(flat, latent)), Up(latent)
        opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], **adam)

        def step():
            opt.zero_grad(set_to_none=True)
            with fwd():
                recon = torch.sigmoid(dec(enc(x)))
            nn.functional.mse_loss(recon.float(), x).backward()
            opt.step()

        return step

    if name == "style_aae":
        return style_aae_torch_step(x, y, batch)

    wgan = name == "wgan"
    gen, disc = Up(latent), nn.Sequential(down(batch_norm=not wgan), nn.Linear(flat, 1))  # as configs/wgan.py
    if wgan:
        opt_g = torch.optim.RMSprop(gen.parameters(), lr=5e-5)
        opt_d = torch.optim.RMSprop(disc.parameters(), lr=5e-5)
    else:
        opt_g, opt_d = torch.optim.Adam(gen.parameters(), **adam), torch.optim.Adam(disc.parameters(), **adam)
    bce = nn.functional.binary_cross_entropy_with_logits
    real = x * 2 - 1
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)

    def step():
        for _ in range(5 if wgan else 1):
            opt_d.zero_grad(set_to_none=True)
            with torch.no_grad(), fwd():
                fake = torch.tanh(gen(torch.randn(batch, latent)))
            with fwd():
                r, f = disc(real).float(), disc(fake).float()
            loss = (f.mean() - r.mean()) if wgan else bce(r, ones) + bce(f, zeros)
            loss.backward()
            opt_d.step()
            if wgan:
                with torch.no_grad():
                    for p in disc.parameters():
                        p.clamp_(-0.01, 0.01)
        opt_g.zero_grad(set_to_none=True)
        with fwd():
            f = disc(torch.tanh(gen(torch.randn(batch, latent)))).float()
        (-f.mean() if wgan else bce(f, ones)).backward()
        opt_g.step()

    return step


def style_aae_torch_step(x, y, batch: int, style: int = 4):
    """configs/style_aae.py in PyTorch: encoder -> (10 logits, style), decoder (one-hot, style) -> image,
    digit-aware discriminator; one discriminator and one autoencoder AdamW update per step."""
    import torch
    from torch import nn

    def block(c_in, c_out, k, stride, groups):
        conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False)
        return [conv, nn.GroupNorm(groups, c_out), nn.ReLU()]

    enc = nn.Sequential(*block(1, 16, 5, 2, 4), *block(16, 32, 3, 1, 8), nn.MaxPool2d(3, 2, 1), nn.Flatten(),
                        nn.Linear(32 * 8 * 8, 10 + style))  # fmt: skip
    dec = nn.Sequential(nn.Linear(10 + style, 32 * 8 * 8), nn.Unflatten(1, (32, 8, 8)),
                        nn.Upsample(scale_factor=2), *block(32, 32, 3, 1, 8),
                        nn.Upsample(scale_factor=2), *block(32, 4, 3, 1, 2),
                        nn.Conv2d(4, 1, 3, 1, 1))  # fmt: skip
    disc = nn.Sequential(nn.Linear(10 + style, 64), nn.ReLU(), nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 1))
    opt_ae = torch.optim.AdamW([*enc.parameters(), *dec.parameters()], lr=4e-4)
    opt_d = torch.optim.AdamW(disc.parameters(), lr=4e-4)
    bce = nn.functional.binary_cross_entropy_with_logits
    onehot = nn.functional.one_hot(y, 10).float()
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)

    def step():
        out = enc(x)
        logits, code = out[:, :10], out[:, 10:]
        opt_d.zero_grad(set_to_none=True)
        real = torch.cat([onehot, torch.randn(batch, style)], 1)
        fake = torch.cat([onehot, code.detach()], 1)
        (bce(disc(real), ones) + bce(disc(fake), zeros)).backward()
        opt_d.step()
        opt_ae.zero_grad(set_to_none=True)
        recon = torch.sigmoid(dec(torch.cat([onehot, code], 1)))
        loss = (recon - x).abs().mean() + nn.functional.cross_entropy(logits, y)
        loss = loss + 0.1 * bce(disc(torch.cat([onehot, code], 1)), ones)
        loss.backward()
        opt_ae.step()

    return step


# ----------------------------------------------------------------------------------------- timing


def time_steps(step, n: int, warmup: int) -> float:
    """Median seconds per step over n steps after warmup (compilation included in warmup)."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved repetitions of every measurement")
    parser.add_argument("--steps", type=int, default=6, help="timed steps per measurement")
    parser.add_argument("--conv-impl", default="auto", choices=["auto", "xla", "cpu"])
    parser.add_argument("--steps-per-call", type=int, default=1, help="jaxgen steps fused by lax.scan")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--bf16", action="store_true", help="also time bfloat16 compute on both sides")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    import jax

    jax.config.update("jax_compilation_cache_dir", str(Path.home() / ".cache" / "jaxgen" / "xla"))
    k = args.steps_per_call
    sides = {"jax": lambda m: jax_runner(m, args.batch, args.conv_impl, k)}
    if args.bf16:
        sides["jax_bf16"] = lambda m: jax_runner(m, args.batch, args.conv_impl, k, "bfloat16")
    if not args.no_torch:  # models without a PyTorch counterpart are skipped there
        sides["torch_1thread"] = lambda m: torch_runner(m, args.batch, 1)
        sides["torch_2threads"] = lambda m: torch_runner(m, args.batch, 2)
        if args.bf16:
            sides["torch_bf16_1thread"] = lambda m: torch_runner(m, args.batch, 1, bf16=True)
            sides["torch_bf16_2threads"] = lambda m: torch_runner(m, args.batch, 2, bf16=True)
    results = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
               "jax": jax.__version__, "backend": jax.default_backend(), "batch": args.batch,
               "conv_impl": args.conv_impl, "steps_per_call": k, "runs": []}  # fmt: skip
    try:
        import torch

        results["torch"] = torch.__version__
    except ImportError:
        pass
    results["cpu_model"] = cpu_model()
    results["peak_gflops"] = peaks = measured_peaks()
    print(
        f"{results['cpu_model']}: matmul peak " + ", ".join(f"{n} {v:.0f} GFLOP/s" for n, v in peaks.items())
    )
    for model in args.models:
        steps = {
            side: make(model)
            for side, make in sides.items()
            if side.startswith("jax") or model in TORCH_MODELS
        }
        for round_ in range(args.rounds):
            for side, step in steps.items():
                load = os.getloadavg()[0]
                seconds = time_steps(step, args.steps, warmup=2 if round_ == 0 else 1)
                seconds /= k if side.startswith("jax") else 1
                run = {"model": model, "side": side, "round": round_, "s_per_step": seconds,
                       "images_per_s": args.batch / seconds, "load_1min": load}  # fmt: skip
                flops = getattr(step, "flops", 0.0)
                if flops:  # XLA's FLOP count of the step against the matmul peak of its operand dtype
                    run["gflops"] = flops / seconds / 1e9
                    run["peak_fraction"] = run["gflops"] / peaks["bfloat16" if "bf16" in side else "float32"]
                results["runs"].append(run)
                achieved = (
                    f", {run['gflops']:.0f} GFLOP/s = {run['peak_fraction']:.1%} of peak" if flops else ""
                )
                rate = f"{seconds * 1000:8.1f} ms/step {args.batch / seconds:8.1f} img/s{achieved}"
                print(f"{model:10s} {side:15s} round {round_}: {rate}  (load {load:.2f})", flush=True)
    print("\nbest of rounds (images/s):")
    summary = {}
    for model in args.models:
        runs = [r for r in results["runs"] if r["model"] == model]
        best = {
            side: max(r["images_per_s"] for r in runs if r["side"] == side)
            for side in dict.fromkeys(r["side"] for r in runs)
        }
        fractions = {
            f"{side}_peak_fraction": max(r.get("peak_fraction", 0.0) for r in runs if r["side"] == side)
            for side in best
            if side.startswith("jax")
        }
        ratios = {}
        for ours, theirs in (("jax", "torch_"), ("jax_bf16", "torch_"), ("jax_bf16", "torch_bf16")):
            rivals = [
                v
                for side, v in best.items()
                if side.startswith(theirs) and ("bf16" in side) == (theirs == "torch_bf16")
            ]
            if ours in best and rivals:
                ratios[f"{ours}/{theirs.rstrip('_')}{'_fp32' if theirs == 'torch_' else ''}_best"] = best[
                    ours
                ] / max(rivals)
        summary[model] = {**best, **ratios, **fractions}
        print(
            f"{model:10s} "
            + "  ".join(f"{side} {v:7.1f}" for side, v in best.items())
            + "  "
            + "  ".join(f"{name} {v:.2f}x" for name, v in ratios.items())
        )
    results["summary"] = summary
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
