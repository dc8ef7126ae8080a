"""Read sweep YAML safely, resolve `include:`, and remember where every value came from.

Each value's path (("experiments", 0, "model", "name")) maps to its (file, line), so a
validation error can name the file and line of the offending field.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on what reading one sweep file may cost; settings can raise them."""

    max_bytes: int
    max_nodes: int


MAX_DEPTH = 64  # a sweep file nests ~8 levels; the bound keeps every later walk shallow
LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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


def _read_text(path: Path, max_bytes: int) -> str:
    """The file as text, refused when larger than `max_bytes` (read no further) or not UTF-8."""
    try:
        with path.open("rb") as stream:
            raw = stream.read(max_bytes + 1)
    except OSError as error:
        raise SpecError(str(path), None, "", f"cannot read: {error.strerror}") from None
    if len(raw) > max_bytes:
        raise SpecError(
            str(path),
            None,
            "",
            f"larger than {max_bytes:,} bytes: a sweep file is a few KB of YAML; use a grid "
            "instead of long lists, or raise ORCHESTRATOR_MAX_SWEEP_FILE_BYTES",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise SpecError(
            str(path),
            line,
            "",
            f"not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start}); "
            "a sweep file is YAML: save it as UTF-8",
        ) from None


def _check_nodes(root: yaml.Node, file: str, max_nodes: int) -> None:
    """Refuse duplicate keys, self-referencing aliases, deep nesting and alias bombs.

    Sizes count a node once per use, as every later walk of the data will; each distinct
    node is visited once (sizes are memoized), so a few hundred bytes of nested aliases
    that expand to billions of values are refused in microseconds.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def refuse(node: yaml.Node, path: tuple[Any, ...], message: str) -> SpecError:
        field = ".".join(str(part) for part in path).replace(".[", "[")
        return SpecError(file, node.start_mark.line + 1, field, message)

    def size(node: yaml.Node, path: tuple[Any, ...]) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in open_nodes:
            raise refuse(node, path, "an alias refers to the list or mapping it is in")
        if len(path) > MAX_DEPTH:
            raise refuse(node, path, f"nested more than {MAX_DEPTH} levels deep")
        open_nodes.add(id(node))
        total = 1
        if isinstance(node, yaml.MappingNode):
            _refuse_duplicate_keys(node, file, ".".join(str(part) for part in path))
            for key, value in node.value:
                total += 1 + size(value, (*path, key.value if key.id == "scalar" else "?"))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                total += size(item, (*path, f"[{index}]"))
        open_nodes.discard(id(node))
        if total > max_nodes:
            raise refuse(
                node,
                path,
                f"expands to more than {max_nodes:,} values (an alias counts each time it is "
                "used): repeat less, or raise ORCHESTRATOR_MAX_YAML_NODES",
            )
        sizes[id(node)] = total
        return total

    size(root, ())


def _refuse_duplicate_keys(node: yaml.MappingNode, file: str, field: str) -> None:
    """YAML keys are unique; PyYAML would silently keep the last value of a repeated one."""
    first_line: dict[tuple[str, str], int] = {}
    for key, _ in node.value:
        if key.id != "scalar" or key.tag == "tag:yaml.org,2002:merge":
            continue
        line = key.start_mark.line + 1
        if (key.tag, key.value) in first_line:
            earlier = first_line[(key.tag, key.value)]
            raise SpecError(
                file,
                line,
                f"{field}.{key.value}".replace(".[", "[").lstrip("."),
                f"duplicate key (first at line {earlier}): keep one; YAML keys are unique",
            )
        first_line[(key.tag, key.value)] = line


def _read_yaml(path: Path, limits: ReadLimits) -> tuple[Any, Locations]:
    text = _read_text(path, limits.max_bytes)
    loader = LOADER(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_nodes(node, str(path), limits.max_nodes)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error)
        raise SpecError(str(path), line, "", f"not valid YAML: {problem}") from None
    except (ValueError, TypeError, AttributeError, IndexError, OverflowError) as error:
        # PyYAML's constructors raise these for values their explicit tag cannot take
        # (`!!int x`, `!!timestamp 2001-13-45`)
        raise SpecError(
            str(path), None, "", f"not valid YAML: a tagged value cannot be read ({error})"
        ) from None
    finally:
        loader.dispose()
    locations: Locations = {}
    if node is not None:
        _locations(node, str(path), (), locations)
    return data, locations


def load_sweep_document(
    path: Path,
    fields: Collection[str],
    limits: ReadLimits,
    _seen: tuple[Path, ...] = (),
    _included: dict[Path, str] | None = None,
) -> tuple[dict, Locations]:
    """The sweep as one mapping, included files' experiments first, and its locations.

    `fields` are the top-level keys a sweep may have (besides `include`); an included
    file's keys are checked against them here, as the spec checks the main file's. A file
    is included once per sweep: twice would repeat its experiments, and files that each
    include the next one twice would otherwise be read 2**depth times.
    """
    included_from = {} if _included is None else _included
    path = path.resolve()
    if path in _seen:
        chain = " -> ".join(str(p) for p in (*_seen, path))
        raise SpecError(str(path), None, "include", f"include cycle: {chain}")
    data, locations = _read_yaml(path, limits)
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
        if _seen:
            _refuse_included(path, data, locations, "experiments", "must be a list of experiments")
        return data, locations  # the spec's validation reports the wrong type with its line
    if _seen:
        for key in data:
            if key not in fields:
                valid = ", ".join([*fields, "include"])
                _refuse_included(
                    path, data, locations, key, f"unknown field; valid fields: {valid}"
                )
    merged: list[Any] = []
    merged_locations: Locations = {
        key: value
        for key, value in locations.items()
        if key[:1] != ("experiments",) or len(key) == 1
    }
    for index, name in enumerate(includes):
        included_path = (path.parent / name).resolve()
        line = locations.get(("include", index), (str(path), None))[1]
        if not included_path.is_file():
            raise SpecError(
                str(path), line, f"include[{index}]", f"file not found: {included_path}"
            )
        if included_path in included_from and included_path not in (*_seen, path):
            raise SpecError(
                str(path),
                line,
                f"include[{index}]",
                f"{included_path} is already included (at {included_from[included_path]}): "
                "include each file once",
            )
        included_from[included_path] = f"{path}:{line}"
        included, included_locations = load_sweep_document(
            included_path, fields, limits, (*_seen, path), included_from
        )
        _append(merged, merged_locations, included.get("experiments") or [], included_locations)
    _append(merged, merged_locations, own_experiments, locations)
    data["experiments"] = merged
    return data, merged_locations


def _refuse_included(path: Path, data: dict, locations: Locations, key: Any, message: str) -> None:
    line = locations.get((key,), (str(path), None))[1]
    raise SpecError(str(path), line, str(key), f"{message} (in an included file)")


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
