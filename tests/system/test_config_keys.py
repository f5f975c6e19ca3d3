"""The table of configuration keys (rules/config_keys.c), as `mail2alert -k`
lists it, against what must know every key: the manual page
man/mail2alert.conf.5 (each key, its default and bounds) and
packaging/mail2alert-import (each key the Python mail2alert had, that is
every row not flagged not-imported).

No Postfix, no GoCD: the binary and the importer are run directly.
"""

import os
import re
import subprocess

import pytest

from tests.system.m2a_helpers import on_this_machine

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAN = os.path.join(REPO, "man", "mail2alert.conf.5")
IMPORTER = os.path.join(REPO, "packaging", "mail2alert-import")

# Where in the manual page the keys of each scope are listed.
SECTIONS = {
    "": "TOP-LEVEL KEYS",
    "slack-webhooks[].": "SLACK",
    "chat-webhooks[].": "CHAT SERVICES",
    "managers[].": "MANAGERS",
    "managers[].messages-we-want.": "MANAGERS",
    "managers[].rules[].": "RULES",
    "managers[].rules[].filter.": "RULES",
    "managers[].teams[].": "TEAMS",
}


def run(*args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([str(a) for a in args], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                          env=e, universal_newlines=True)


class Key:
    def __init__(self, line):
        self.path, self.type, self.default, self.bounds, flags = line.split("\t")
        self.flags = set() if flags == "-" else set(flags.split(","))
        self.name = re.sub(r"^.*[.]", "", self.path)
        self.scope = self.path[:len(self.path) - len(self.name)]

    def __repr__(self):
        return self.path


@pytest.fixture(scope="module")
def keys(mail2alert_bin):
    p = run(mail2alert_bin, "-k")
    assert p.returncode == 0 and p.stderr == "", p.stderr
    rows = [Key(line) for line in p.stdout.splitlines()]
    assert len(rows) > 30, p.stdout
    return rows


def test_listing_has_unique_keys_and_known_scopes(keys):
    paths = [k.path for k in keys]
    assert len(paths) == len(set(paths))
    for k in keys:
        assert k.scope in SECTIONS, k
        assert k.type in ("string", "integer", "boolean", "mode", "strings", "group",
                          "groups"), k


def man_items():
    """{section title: {key: its .It line}} of the manual page."""
    with open(MAN) as f:
        text = f.read()
    items, section = {}, None
    for line in text.splitlines():
        if line.startswith(".Sh "):
            section = line[4:].strip()
            items.setdefault(section, {})
            continue
        if section is None or not line.startswith(".It "):
            continue
        # ".It Cm name , owner No (...)" documents name and owner
        toks = line.split()[1:]
        i = 0
        while i < len(toks):
            if toks[i] != "Cm" or i + 1 >= len(toks):
                i += 1
                continue
            i += 1
            while True:
                items[section].setdefault(toks[i], line)
                if (i + 2 < len(toks) and toks[i + 1] == "," and
                        not re.fullmatch(r"[A-Z][a-z]", toks[i + 2])):
                    i += 2
                    continue
                break
            i += 1
    return items


def test_man_page_lists_every_key_with_its_default_and_bounds(keys):
    items = man_items()
    missing, wrong = [], []
    for k in keys:
        line = items.get(SECTIONS[k.scope], {}).get(k.name)
        if line is None:
            missing.append("%s (in section %s)" % (k.path, SECTIONS[k.scope]))
            continue
        expect = []
        if k.type == "integer":
            low, high = k.bounds.split("..")
            expect = ["default %s," % k.default, "%s to %s)" % (low, high)]
        elif k.type == "boolean":
            expect = ["default %s" % k.default]
        elif k.type == "mode":
            expect = ["default Qq %s" % k.default]
        elif k.default != "-":
            expect = ["default Qq %s" % k.default.strip('"')]
        if "required" in k.flags and k.scope == "":
            expect.append("required")
        wrong += ["%s: %r not in %r" % (k.path, e, line) for e in expect if e not in line]
    assert not missing, "man/mail2alert.conf.5 lacks: " + ", ".join(missing)
    assert not wrong, "man/mail2alert.conf.5 disagrees with the table: " + "; ".join(wrong)


# Sample values the checks need; other keys get one from their type.
SAMPLES = {
    "slack-token": "xoxb-imported",
    "managers[].name": "gocd",
    "managers[].url": "http://gocd.example.com/go",
    "managers[].passwd": "$IMPORTED_PASSWD",
    "managers[].messages-we-want.to": "mail2alert@example.com",
    "managers[].messages-we-want.from": "go@example.com",
    "managers[].rules[].filter.events": ["BREAKS", "FIXED"],
    "managers[].rules[].filter.function": "pipelines.in_group",
    "managers[].rules[].filter.args": ["imported-group"],
    "managers[].rules[].actions": ["mailto:imported@example.com", "slack:#imported"],
}


def sample(k):
    if k.path in SAMPLES:
        return SAMPLES[k.path]
    return {"string": "imported-" + k.name, "integer": 7, "boolean": True, "mode": "0640",
            "strings": ["imported-" + k.name]}.get(k.type)


def python_config(keys):
    """A configuration.yml of the Python tool with every key it had, as a dict."""
    imported = [k for k in keys if "not-imported" not in k.flags]
    by_scope = {}
    for k in imported:
        by_scope.setdefault(k.scope, []).append(k)

    def build(scope):
        group = {}
        for k in by_scope.get(scope, []):
            if k.type in ("group", "groups"):
                child = build(k.path + ("[]." if k.type == "groups" else "."))
                group[k.name] = [child] if k.type == "groups" else child
            else:
                group[k.name] = sample(k)
        return group

    config = build("")
    # to and from exclude each other: a second manager takes from
    managers = config.get("managers", [])
    for m in list(managers):
        wanted = m.get("messages-we-want", {})
        if "to" in wanted and "from" in wanted:
            other = dict(m, name="mail", **{"messages-we-want": {"from": wanted.pop("from")}})
            other.pop("url", None), other.pop("user", None), other.pop("passwd", None)
            other["rules"] = [{"filter": {"function": "mail.in_subject", "args": ["backup"]},
                               "actions": ["mailto:sys@example.com"]}]
            managers.append(other)
    return imported, config


def to_yaml(value, indent=""):
    """Just enough YAML for python_config's output (no PyYAML needed to write)."""
    lines = []
    if isinstance(value, dict):
        for key, v in value.items():
            if isinstance(v, (dict, list)):
                lines.append("%s%s:" % (indent, key))
                lines += to_yaml(v, indent + "  ")
            else:
                lines.append("%s%s: %s" % (indent, key, scalar(v)))
    else:
        for v in value:
            if isinstance(v, dict):
                sub = to_yaml(v, indent + "  ")
                lines.append("%s- %s" % (indent, sub[0].lstrip()))
                lines += sub[1:]
            else:
                lines.append("%s- %s" % (indent, scalar(v)))
    return lines


def scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return "'%s'" % str(v).replace("'", "''")


def test_importer_carries_every_key_the_python_tool_had(keys, mail2alert_bin, test_dir):
    imported, config = python_config(keys)
    assert any(k.path == "slack-token" for k in imported)
    yml = os.path.join(test_dir, "configuration.yml")
    with open(yml, "w") as f:
        f.write("\n".join(to_yaml(config)) + "\n")
    p = run(IMPORTER, yml)
    assert p.returncode == 0, p.stderr
    settings = "\n".join(l for l in p.stdout.splitlines() if not l.lstrip().startswith("#"))
    lost = []
    for k in imported:
        value = sample(k)
        if isinstance(value, str):
            want = r"(?<![\w-])%s\s*=\s*\"%s\"" % (re.escape(k.name), re.escape(value))
        else:
            want = r"(?<![\w-])%s\s*=" % re.escape(k.name)
        if not re.search(want, settings):
            lost.append(k.path)
    assert not lost, "mail2alert-import does not carry %s:\n%s" % (lost, p.stdout)
    conf = os.path.join(test_dir, "mail2alert.conf")
    with open(conf, "w") as f:
        f.write(on_this_machine(p.stdout, test_dir))
    t = run(mail2alert_bin, "-t", "-c", conf, env={"IMPORTED_PASSWD": "pw"})
    assert t.returncode == 0, t.stderr + p.stdout
