"""experiments/benchmark.py's FLOP count: the work of an ordinary step, with repeated updates counted once
per repetition (XLA's cost analysis counts a loop body once), and the summary of its timings."""

from __future__ import annotations

from conftest import REPO, load_config_file, load_module

from jaxgen import runtime


def load_benchmark():
    return load_module(REPO / "experiments" / "benchmark.py")


def test_unrolled_writes_out_the_critic_updates_of_wgan():
    benchmark = load_benchmark()
    config = load_config_file(REPO / "configs" / "wgan.py")
    family = runtime.build_family(config)
    unrolled = benchmark.unrolled(family)
    names = [u.name for u in unrolled.updates]
    assert names == [family.updates[0].name] * config.model.n_critic + [family.updates[1].name]
    assert all(u.repeat == 1 for u in unrolled.updates)
    assert not isinstance(family.updates[0].repeat, int)  # the config's critic repeats on a schedule


def test_model_flops_count_every_critic_update():
    """With the critic loop counted once, WGAN's step would read as one critic and one generator update;
    written out it is five critic updates and one generator update: more than twice as much work."""
    benchmark = load_benchmark()
    looped, args = benchmark.build_step("wgan", 8, "xla", 1)
    once = looped.lower(*args).cost_analysis()
    once = (once[0] if isinstance(once, list) else once)["flops"]
    assert benchmark.model_flops("wgan", 8, "float32") > 2 * once
    # a model without repeated updates counts the same either way
    plain, args = benchmark.build_step("gan", 8, "xla", 1)
    cost = plain.lower(*args).cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    assert benchmark.model_flops("gan", 8, "float32") == cost["flops"]


def test_summary_takes_each_sides_best_round_and_ratios_against_pytorchs_best():
    benchmark = load_benchmark()
    runs = [
        {"model": "gan", "side": "jax", "images_per_s": 100.0, "peak_fraction": 0.2},
        {"model": "gan", "side": "jax", "images_per_s": 120.0, "peak_fraction": 0.3},
        {"model": "gan", "side": "torch_1thread", "images_per_s": 50.0},
        {"model": "gan", "side": "torch_2threads", "images_per_s": 80.0},
        {"model": "gan", "side": "torch_bf16_2threads", "images_per_s": 90.0},
    ]
    summary = benchmark.summarize(runs)["gan"]
    assert summary["jax"] == 120.0 and summary["torch_2threads"] == 80.0
    assert summary["jax/torch_fp32_best"] == 1.5  # 120 / 80: PyTorch's bf16 side is not its fp32 best
    assert summary["jax_peak_fraction"] == 0.3
