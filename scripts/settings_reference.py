"""The settings reference, generated from the tap's own schema (as `--about` prints it):
the `settings:` of the tap-convai extractor in meltano.yml, the settings table of README.md,
and the Meltano Hub plugin definition (meltano-hub/, the extractor as meltano.yml defines it
plus the Hub's metadata). A new setting or vendor is documented by running this once.

    python scripts/settings_reference.py           # rewrite all three
    python scripts/settings_reference.py --check   # exit 1 if one has drifted
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from tap_convai.settings import config_schema  # noqa: E402
from tap_convai.tap import VENDORS  # noqa: E402

MELTANO_YML = ROOT / "meltano.yml"
README = ROOT / "README.md"
#: laid out as in the Hub's repository: _data/meltano/extractors/<name>/<variant>.yml
HUB_DEFINITION = ROOT / "meltano-hub" / "extractors" / "tap-convai" / "convai.yml"
#: what the Hub shows besides the plugin's own definition
HUB_METADATA = {
    "variant": "convai",
    "label": "Conversational AI agents (Airgentic, Kore.ai, AgentX, AurionAI, Zendesk AI)",
    "description": "Conversation exports and analytics of AI support agents",
    "pip_url": "tap-convai",
    "maintenance_status": "active",
    "keywords": ["meltano_sdk", "conversational-ai", "chatbot", "zendesk", "kore.ai"],
}
#: the extractor's settings list in meltano.yml: from its `settings:` to `loaders:`
MELTANO_BLOCK = re.compile(r"(    settings:\n)(    - name: start_date\n.*?)(?=^  loaders:)",
                           re.S | re.M)
README_BLOCK = re.compile(r"(<!-- settings:start -->\n)(.*?)(<!-- settings:end -->)", re.S)


@dataclass(frozen=True)
class Setting:
    name: str  # dotted for a vendor block's settings, e.g. "kore.jwt"
    schema: dict[str, Any]
    required: str  # "yes", "per vendor" or ""

    @property
    def type(self) -> str:
        types = self.schema.get("type", "string")
        types = [types] if isinstance(types, str) else types
        return next((kind for kind in types if kind != "null"), "string")

    @property
    def secret(self) -> bool:
        return bool(self.schema.get("secret"))

    @property
    def description(self) -> str:
        return " ".join(self.schema.get("description", "").split())

    @property
    def meltano_kind(self) -> str:
        if self.schema.get("enum"):
            return "options"
        # not `decimal`: Meltano 4.4 casts an environment value of that kind to a Decimal
        # it then cannot write to the plugin's JSON config; the tap reads numbers as text
        return {"number": "string"}.get(self.type, self.type)


def settings(schema: dict[str, Any]) -> list[Setting]:
    """Every setting, a vendor block's ones under its name, in the schema's order."""
    out = []
    required = set(schema.get("required", ()))
    for name, prop in schema["properties"].items():
        if prop.get("type") in ("object", ["object", "null"]) and prop.get("properties"):
            inner = set(prop.get("required", ()))
            for key, sub in prop["properties"].items():
                out.append(Setting(f"{name}.{key}", sub, "per vendor" if key in inner else ""))
        else:
            out.append(Setting(name, prop, "yes" if name in required else ""))
    return out


def meltano_settings(items: list[Setting]) -> str:
    lines = []
    for item in items:
        lines += [f"    - name: {item.name}", f"      kind: {item.meltano_kind}",
                  f"      description: {json.dumps(item.description)}"]
        if item.secret:
            lines.append("      sensitive: true")
        if item.schema.get("enum"):
            lines.append("      options:")
            lines += [f"      - {{label: {v.upper()}, value: {v}}}" for v in item.schema["enum"]]
    return "\n".join(lines) + "\n"


def readme_table(items: list[Setting]) -> str:
    rows = ["| setting | required | default | meaning |", "|---|---|---|---|"]
    for item in items:
        name = f"`{item.name}`" + (" (secret)" if item.secret else "")
        default = item.schema.get("default")
        shown = "" if default is None else f"`{json.dumps(default)}`"
        meaning = item.description.replace("|", "\\|")
        rows.append(f"| {name} | {item.required} | {shown} | {meaning} |")
    return "\n".join(rows) + "\n"


def hub_definition(items: list[Setting]) -> str:
    """The Hub's plugin definition: meltano.yml's extractor (its settings generated here,
    so both say the same) with the Hub's metadata."""
    project = yaml.safe_load(meltano_settings_in(MELTANO_YML.read_text(), items))
    (extractor,) = [p for p in project["plugins"]["extractors"] if p["name"] == "tap-convai"]
    titles = {v.key: v.title for v in VENDORS}
    settings = []
    for setting in extractor["settings"]:
        vendor, _, key = setting["name"].rpartition(".")
        words = key.replace("_", " ")
        label = f"{titles[vendor]} {words}" if vendor else words.capitalize()
        settings.append({"name": setting["name"], "label": label, **{
            k: v for k, v in setting.items() if k != "name"}})
    definition = {
        "name": extractor["name"],
        "namespace": extractor["namespace"],
        **HUB_METADATA,
        "executable": extractor["executable"],
        "capabilities": extractor["capabilities"],
        "settings_group_validation": extractor["settings_group_validation"],
        "settings": settings,
    }
    header = "# Generated by scripts/settings_reference.py from meltano.yml; do not edit.\n"
    return header + yaml.safe_dump(definition, sort_keys=False, allow_unicode=True, width=100)


def meltano_settings_in(text: str, items: list[Setting]) -> str:
    return MELTANO_BLOCK.sub(lambda m: m.group(1) + meltano_settings(items), text, count=1)


def rendered() -> dict[Path, str]:
    """Each file as it should be."""
    # the tap's own settings (the SDK adds its built-in ones, e.g. stream_maps, to the
    # Tap class's schema; Meltano knows those from the extractor's capabilities)
    items = settings(config_schema(VENDORS))
    out = {}
    for path, block, text in ((MELTANO_YML, MELTANO_BLOCK, meltano_settings(items)),
                              (README, README_BLOCK, readme_table(items))):
        current = path.read_text()
        if not block.search(current):
            raise SystemExit(f"{path.name}: the generated settings block was not found")
        out[path] = block.sub(lambda m, text=text: m.group(1) + text + (
            m.group(3) if m.lastindex == 3 else ""), current, count=1)
    out[HUB_DEFINITION] = hub_definition(items)
    return out


def drifted() -> list[str]:
    """The files whose settings differ from the schema's."""
    return [path.name for path, text in rendered().items()
            if not path.exists() or path.read_text() != text]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        stale = drifted()
        if stale:
            print(f"settings reference out of date in {', '.join(stale)}: "
                  "run python scripts/settings_reference.py", file=sys.stderr)
            return 1
        return 0
    for path, text in rendered().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
