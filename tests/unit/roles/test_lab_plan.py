"""The lab's plan (names, addresses, cores) and its refusals, on real `ip -j` output captured with the lab up."""

from __future__ import annotations

import ipaddress
import json

import pytest
from support import FIXTURES, load_module

lab_plan = load_module("roles/lab/library/lab_plan.py")

ADDRS = json.loads((FIXTURES / "ip/addr_lab_up.json").read_text())
ROUTES = json.loads((FIXTURES / "ip/route_lab_up.json").read_text())
OWN = {"blbr0", "bl-app1", "bl-load1"}


def plan(**kw):
    args = {
        "name": "bl",
        "bridge": "blbr0",
        "subnet": "10.203.0.0/24",
        "app_hosts": 1,
        "load_hosts": 1,
        "cpus": [0, 1],
        "cpu_pinning": True,
    }
    return lab_plan.plan_lab(**{**args, **kw})


def test_default_plan_gives_bridge_then_hosts_and_separate_cores():
    p = plan()
    assert p["bridge"] == {"name": "blbr0", "address": "10.203.0.1", "cidr": "10.203.0.1/24"}
    assert [(h["name"], h["group"], h["cidr"], h["cpus"]) for h in p["hosts"]] == [
        ("app1", "app", "10.203.0.2/24", [1]),
        ("load1", "load", "10.203.0.3/24", [0]),
    ]
    assert all(len(h["veth"]) <= 15 and h["netns"] == h["veth"] == f"bl-{h['name']}" for h in p["hosts"])
    assert p["warnings"] == []


def test_two_load_hosts_share_what_the_app_host_leaves_and_say_so():
    p = plan(load_hosts=2)
    assert {h["name"]: h["cpus"] for h in p["hosts"]} == {"app1": [1], "load1": [0], "load2": [0]}
    assert "share 1 core(s)" in p["warnings"][0]


def test_too_few_cores_for_pinning_is_refused_with_the_way_out():
    refusal = r"lab_cpu_pinning=true: this machine has 1 core.*lab_cpu_pinning=false"
    with pytest.raises(lab_plan.PlanError, match=refusal):
        plan(cpus=[0])
    with pytest.raises(lab_plan.PlanError, match="3 needed"):
        plan(app_hosts=2)


def test_unpinned_hosts_get_every_core_and_a_warning():
    p = plan(cpus=[0], cpu_pinning=False)
    assert all(h["cpus"] == [0] for h in p["hosts"])
    assert "noisier" in p["warnings"][0]


@pytest.mark.parametrize(
    ("kw", "variable"),
    [
        ({"subnet": "10.203.0.0/33"}, "lab_subnet"),
        ({"subnet": "fd00::/64"}, "lab_subnet"),
        ({"subnet": "8.8.8.0/24"}, "lab_subnet"),
        ({"subnet": "10.203.0.0/30"}, "lab_subnet"),
        ({"app_hosts": 0}, "lab_app_hosts"),
        ({"load_hosts": 9}, "lab_load_hosts"),
        ({"name": "Bad-Name"}, "lab_name"),
        ({"bridge": "a-very-long-bridge-name"}, "lab_bridge"),
    ],
)
def test_bad_input_names_the_variable(kw, variable):
    with pytest.raises(lab_plan.PlanError, match=rf"^{variable}="):
        plan(**kw)


def test_the_labs_own_bridge_and_veths_are_not_a_conflict():
    assert lab_plan.overlapping(ipaddress.ip_network("10.203.0.0/24"), ADDRS, ROUTES, OWN) == []


def test_a_stale_interface_holding_the_subnet_is_a_conflict():
    # The same capture, seen by a lab whose bridge has another name: blbr0 is then somebody else's.
    found = lab_plan.overlapping(ipaddress.ip_network("10.203.0.0/24"), ADDRS, ROUTES, {"other0"})
    assert "address 10.203.0.1/24 on blbr0" in found
    assert "route 10.203.0.0/24 via blbr0" in found


def test_the_controllers_own_network_is_a_conflict_but_the_default_route_is_not():
    eth0 = next(link for link in ADDRS if link["ifname"] == "eth0")
    inet = next(a for a in eth0["addr_info"] if a["family"] == "inet")
    subnet = ipaddress.ip_interface(f"{inet['local']}/{inet['prefixlen']}").network
    found = lab_plan.overlapping(subnet, ADDRS, ROUTES, OWN)
    assert found and all("eth0" in f for f in found)
    assert lab_plan.overlapping(ipaddress.ip_network("172.31.250.0/24"), ADDRS, ROUTES, OWN) == []


def test_a_bridge_carrying_another_labs_hosts_is_refused_by_name():
    plan = lab_plan.plan_lab(name="zz", bridge="blbr0", subnet="10.203.0.0/24", app_hosts=1, load_hosts=1,
                             cpus=[0, 1], cpu_pinning=True)  # fmt: skip
    addrs = (FIXTURES / "ip/addr_lab_up.json").read_text()  # captured with the bl lab up
    clash = lab_plan.bridge_clash(plan, "zz", addrs)
    assert clash["foreign"] == ["bl-app1", "bl-load1"]
    assert clash["msg"].startswith("lab_bridge=blbr0 already carries the hosts of another lab (bl-app1, bl-load1)")
    assert lab_plan.bridge_clash({**plan, "bridge": {"name": "zzbr0"}}, "zz", addrs) is None
    assert lab_plan.bridge_clash(plan, "bl", addrs) is None, "the lab's own hosts are no clash"


def test_hosts_of_mixed_releases_cores_and_stock_images():
    """A lab of unlike machines: app2 on trixie with both cores, stock as an image delivers it (unpinned here: this
    machine has 2 cores); app1 on the default release, one core. Each release is a base root (suites)."""
    settings = {"app2": {"debian_suite": "trixie", "cores": "2", "stock": True}, "app": {"cores": 1}}
    p = plan(app_hosts=2, load_hosts=2, cpu_pinning=False, settings=settings)
    hosts = {h["name"]: (h["suite"], h["cpus"], h["stock"]) for h in p["hosts"]}
    assert hosts == {"app1": ("bookworm", [0], False), "app2": ("trixie", [0, 1], True),
                     "load1": ("bookworm", [0, 1], False), "load2": ("bookworm", [0, 1], False)}  # fmt: skip
    assert p["suites"] == ["bookworm", "trixie"]
    pinned = plan(app_hosts=1, cpus=[0, 1, 2, 3], settings={"app1": {"cores": 2}})
    assert {h["name"]: h["cpus"] for h in pinned["hosts"]} == {"app1": [2, 3], "load1": [0]}
    assert plan(suite="trixie")["suites"] == ["trixie"]


@pytest.mark.parametrize(
    ("settings", "refusal"),
    [
        ({"app3": {"stock": True}}, "lab_host_settings: 'app3' is neither a planned host nor a group"),
        ({"app1": {"debian_suite": "sid"}}, "lab_host_settings: app1: debian_suite='sid': use one of bookworm, trixie"),
        ({"load": {"memory": 2}}, "lab_host_settings: load: 'memory' is not a setting"),
        ({"app1": {"cores": 3}}, r"lab_host_settings: app1: cores=3: this machine has 2 core\(s\)"),
        ({"app1": {"cores": 2}}, r"lab_cpu_pinning=true: .* \(3 needed\)"),
        ({"app1": {"stock": "yes"}}, "lab_host_settings: app1: stock='yes': must be a bool"),
        ({"app1": "trixie"}, "lab_host_settings: app1: give a mapping"),
    ],
)
def test_host_settings_that_cannot_work_are_refused_naming_them(settings, refusal):
    with pytest.raises(lab_plan.PlanError, match=refusal):
        plan(settings=settings)


def test_a_release_no_host_runs_is_built_when_asked_to_be_prebuilt(tmp_path):
    """make bench prebuilds trixie's base root (lab_prebuild_suites): stale while missing, but its build powers off
    no host (stale_used); once built with the wanted id, nothing is stale."""
    plugin = load_module("roles/lab/action_plugins/lab_plan.py")
    planned = {"suites": ["bookworm"], "hosts": []}
    of = '{"recipe": "@SUITE@"}'
    (tmp_path / "bookworm").mkdir()
    (tmp_path / "bookworm/.lab-base-id").write_text(plugin.base_id(of, "bookworm") + "\n")
    assert plugin.bases(planned, str(tmp_path), of)["stale"] == []
    found = plugin.bases(planned, str(tmp_path), of, ["trixie"])
    assert (found["stale"], found["stale_used"]) == (["trixie"], [])
    (tmp_path / "trixie").mkdir()
    (tmp_path / "trixie/.lab-base-id").write_text(plugin.base_id(of, "trixie") + "\n")
    assert plugin.bases(planned, str(tmp_path), of, ["trixie"])["stale"] == []
    (tmp_path / "bookworm/.lab-base-id").write_text("an older build\n")
    found = plugin.bases(planned, str(tmp_path), of, ["trixie"])
    assert (found["stale"], found["stale_used"]) == (["bookworm"], ["bookworm"])
    with pytest.raises(plugin.PlanError, match="lab_prebuild_suites: sid: use releases of bookworm, trixie"):
        plugin.bases(planned, str(tmp_path), of, ["sid"])
