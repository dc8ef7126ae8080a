"""Read sweep YAML safely, resolve `include:`, and remember where every value came from.

Each value's path (("experiments", 0, "model", "name")) maps to its (file, line), so a
validation error can name the file and line of the offending field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from orchestrator.errors import SpecError

Location = tuple[str, int]
Locations = dict[tuple[Any, ...], Location]

SEARCH_FOLDERS = (Path("."), Path("configs"), Path(__file__).resolve().parents[1] / "configs")


def find_sweep_file(name: str | Path) -> Path:
    """The file as given, else under ./configs/, else under the installed repo's configs/."""
    candidate = Path(name)
    if candidate.is_absolute():
        if candidate.is_file():
            return candidate
    else:
        for folder in SEARCH_FOLDERS:
            if (folder / candidate).is_file():
                return (folder / candidate).resolve()
    tried = ", ".join(str(folder / candidate) for folder in SEARCH_FOLDERS)
    raise SpecError(str(name), None, "", f"sweep file not found (looked in: {tried})")


def _locations(node: yaml.Node, file: str, path: tuple[Any, ...], out: Locations) -> None:
    out[path] = (file, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            out[(*path, key_node.value)] = (file, key_node.start_mark.line + 1)
            _locations(value_node, file, (*path, key_node.value), out)
            out[(*path, key_node.value)] = (file, key_node.start_mark.line + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _locations(item, file, (*path, index), out)


def _read_yaml(path: Path) -> tuple[Any, Locations]:
    try:
        text = path.read_text()
    except OSError as error:
        raise SpecError(str(path), None, "", f"cannot read: {error.strerror}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error)
        raise SpecError(str(path), line, "", f"not valid YAML: {problem}") from None
    locations: Locations = {}
    if node is not None:
        _locations(node, str(path), (), locations)
    return data, locations


def load_sweep_document(path: Path, _seen: tuple[Path, ...] = ()) -> tuple[dict, Locations]:
    """The sweep as one mapping, included files' experiments first, and its locations."""
    path = path.resolve()
    if path in _seen:
        chain = " -> ".join(str(p) for p in (*_seen, path))
        raise SpecError(str(path), None, "include", f"include cycle: {chain}")
    data, locations = _read_yaml(path)
    if not isinstance(data, dict):
        raise SpecError(
            str(path), 1, "", "a sweep file must be a mapping with `name` and `experiments`"
        )
    includes = data.pop("include", None) or []
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        line = locations.get(("include",), (str(path), None))[1]
        raise SpecError(str(path), line, "include", "must be a file name or a list of file names")
    own_experiments = data.get("experiments") or []
    if not isinstance(own_experiments, list):
        return data, locations  # the spec's validation reports the wrong type with its line
    merged: list[Any] = []
    merged_locations: Locations = {
        key: value
        for key, value in locations.items()
        if key[:1] != ("experiments",) or len(key) == 1
    }
    for index, name in enumerate(includes):
        included_path = (path.parent / name).resolve()
        if not included_path.is_file():
            line = locations.get(("include", index), (str(path), None))[1]
            raise SpecError(
                str(path), line, f"include[{index}]", f"file not found: {included_path}"
            )
        included, included_locations = load_sweep_document(included_path, (*_seen, path))
        _append(merged, merged_locations, included.get("experiments") or [], included_locations)
    _append(merged, merged_locations, own_experiments, locations)
    data["experiments"] = merged
    return data, merged_locations


def _append(
    merged: list, merged_locations: Locations, experiments: list, locations: Locations
) -> None:
    offset = len(merged)
    for key, value in locations.items():
        if len(key) >= 2 and key[0] == "experiments" and isinstance(key[1], int):
            merged_locations[("experiments", key[1] + offset, *key[2:])] = value
    merged.extend(experiments)


def locate(
    data: Any, locations: Locations, loc: tuple[Any, ...], default_file: str
) -> tuple[Location, str]:
    """The (file, line) and dotted field name of a pydantic error location.

    Pydantic adds union tags (the chosen task or model name) to locations; they are skipped
    by walking the data alongside.
    """
    path: list[Any] = []
    current = data
    for part in loc:
        if (
            isinstance(current, dict)
            and part in current
            or isinstance(current, list)
            and isinstance(part, int)
            and part < len(current)
        ):
            current = current[part]
            path.append(part)
        elif isinstance(current, dict | list):
            if isinstance(part, str) and not (isinstance(current, dict) and _is_tag(current, part)):
                path.append(part)  # a missing or unknown field: name it
                break
        else:
            break
    field = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path).replace(".[", "[")
    for length in range(len(path), -1, -1):
        if tuple(path[:length]) in locations:
            return locations[tuple(path[:length])], field
    return (default_file, 1), field


def _is_tag(mapping: dict, part: str) -> bool:
    return mapping.get("name") == part
