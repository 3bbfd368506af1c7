"""Fidelity: how close each worker type's IO sweeps come to the physical limit (min(c, capacity) / unit), and the
worst probe error against theory; on made-up rows and on a real run from two load hosts."""

from __future__ import annotations

from support import FIXTURES

from bench import files
from bench.analyse import throughput
from bench.parse import collect
from bench.render import report

RES = FIXTURES / "resources"


def test_fidelity_takes_the_worst_probe_and_the_highest_io_point():
    probes = [{"worker_type": "w", "task": "io", "concurrency": 2, "error": 0.01},
              {"worker_type": "w", "task": "cpu", "concurrency": 2, "error": 0.12},
              {"worker_type": "w", "task": "io", "concurrency": 1, "error": 0.5}]  # fmt: skip
    sweeps = [{"worker_type": "w", "label": "/io", "concurrency": 1, "io_limit_rps": 10.0, "rps": 9.0,
               "efficiency": 0.9},
              {"worker_type": "w", "label": "/io", "concurrency": 4, "io_limit_rps": 20.0, "rps": 19.6,
               "efficiency": 0.98}]  # fmt: skip
    sweeps.append({"worker_type": "w", "label": "/io", "concurrency": 8, "io_limit_rps": 20.0, "rps": 17.0,
                   "efficiency": 0.85})  # fmt: skip
    (f,) = throughput.fidelity(probes, sweeps, ["w"])
    (io,) = f["io"]
    assert (f["probe_error"], f["probe_error_io"], io["limit"]) == (0.12, 0.01, 20.0)
    assert (io["best_efficiency"], io["best_concurrency"]) == (0.98, 4), "best where c >= capacity"
    assert (io["efficiency"], io["concurrency"]) == (0.85, 8), "and at the highest c"
    assert io["saturated"] and io["label"] == "/io"


def test_fidelity_of_a_type_whose_capacity_no_c_reaches_is_said_to_be_below_saturation(two_hosts):
    sweeps = [{"worker_type": "gevent", "label": "/io", "concurrency": c, "io_limit_rps": c / 0.1,
               "io_capacity": 1000, "rps": rps, "efficiency": rps / (c / 0.1)}
              for c, rps in ((1, 9.6), (4, 39.0), (10, 93.0))]  # fmt: skip
    ((f,),) = [x["io"] for x in throughput.fidelity([], sweeps, ["gevent"])]
    assert not f["saturated"] and (f["best_concurrency"], f["capacity"], f["best_limit"]) == (4, 1000, 40.0)
    sync = [{**s, "worker_type": "sync", "io_capacity": 1, "io_limit_rps": 10.0, "efficiency": s["rps"] / 10.0}
            for s in sweeps[:1]]  # fmt: skip
    ((g,),) = [x["io"] for x in throughput.fidelity([], sync, ["sync"])]
    assert g["saturated"] and g["best_concurrency"] == 1
    files.write_json_atomic(two_hosts / "results.json", collect.collect(two_hosts))
    text = report.main(str(two_hosts)).read_text()
    line = next(x for x in text.splitlines() if x.startswith("- **gevent**: probes (requests at once)"))
    assert "below saturation (its capacity, 1000, is above every c run), at best," in line
