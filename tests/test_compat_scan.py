"""Product code names no private part of Textual (or textual-image) outside ``seedream_tui/tui/compat.py`` (issue 23).

A private part is one whose name starts with ``_`` (not a dunder): a module (``textual._border``,
``textual.widgets._toast``, ``textual_image._terminal``), a name imported from a Textual module
(``from textual.widgets import _toast``), an attribute Textual defines (``app._driver``, ``node._closing``),
or a method / attribute that our subclass of a Textual class defines or sets over one of Textual's
(``def _on_resize`` in an ``App``, ``self._workers = …``: overriding a private is depending on it too).
Textual may change any of these in a minor release; ``compat.py`` is the one place that may name them, each
behind one function that says what it is for, why no public API does it, and the Textual version checked, with
a test in ``tests/tui/test_compat.py`` that fails first if a release changes it.

Every module of the package is read as a syntax tree (and imported, to know each class's real bases):

* imports of a private module, names starting with ``_`` imported from a Textual module, and string literals
  naming a private module (``importlib.import_module("textual._x")``);
* ``obj._name`` (load or store) and ``getattr(obj, "_name")`` where ``_name`` is defined somewhere in Textual's
  source and nowhere in ours (``self._name`` inside a subclass of a Textual class, and ``super()._name``,
  count when a Textual class in its MRO has the name, whether or not we define it too);
* methods and class attributes of our Textual subclasses whose names are private names of a Textual class in
  their MRO.

The scan cannot know an object's type: a private name that our code defines too (on ``self``, as a function,
a class or a variable) is taken as ours on any object but ``self`` / ``super()`` in a Textual subclass.

Run as a script (``python tests/test_compat_scan.py``) it prints each finding and exits 1.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "seedream_tui"
LIBRARIES = ("textual", "textual_image")
#: the one module that may name Textual's private parts (each behind a documented function)
COMPAT = "tui/compat.py"
_PRIVATE_MODULE = re.compile(r"^(?:textual|textual_image)(?:\.\w+)*\._[A-Za-z0-9]\w*")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__")) and name != "_"


def _in_library(module: str) -> bool:
    return any(module == lib or module.startswith(lib + ".") for lib in LIBRARIES)


def _private_module(module: str) -> bool:
    return _in_library(module) and any(_private(part) for part in module.split("."))


def _defined_names(tree: ast.AST, any_receiver: bool = True) -> set[str]:
    """Private names a source tree defines: functions, classes, stored attributes and names, import aliases.

    ``any_receiver=False`` counts only attributes stored on ``self`` or ``cls``: in our code, ``table._x = 1``
    sets a Textual object's private rather than defining a name of ours.
    """
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
            if any_receiver or (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
    return {name for name in names if _private(name)}


@cache
def _parsed(path: str) -> ast.Module:
    return ast.parse(Path(path).read_text(encoding="utf-8"))


@cache
def library_private_names() -> frozenset[str]:
    """Every private name defined anywhere in Textual's and textual-image's source (modules too)."""
    names: set[str] = set()
    for lib in LIBRARIES:
        root = Path(importlib.import_module(lib).__file__ or "").parent
        for path in root.rglob("*.py"):
            names |= _defined_names(_parsed(str(path)))
            names |= {part for part in path.relative_to(root).with_suffix("").parts if _private(part)}
    return frozenset(names)


def _class_nodes(tree: ast.Module) -> dict[str, ast.ClassDef]:
    """ClassDef nodes by qualified name (classes inside functions are left out, as Python names them)."""
    found: dict[str, ast.ClassDef] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                found[prefix + child.name] = child
                visit(child, prefix + child.name + ".")

    visit(tree, "")
    return found


@cache
def textual_class_privates(klass: type) -> frozenset[str]:
    """The private names a Textual class defines: its ``__dict__`` and what its methods store on ``self``."""
    names = {name for name in vars(klass) if _private(name)}
    try:
        source = inspect.getsourcefile(klass)
    except TypeError:
        source = None
    if source:
        node = _class_nodes(_parsed(source)).get(klass.__qualname__)
        if node is not None:
            for sub in ast.walk(node):
                if (
                    isinstance(sub, ast.Attribute)
                    and isinstance(sub.value, ast.Name)
                    and sub.value.id in ("self", "cls")
                    and isinstance(sub.ctx, ast.Store)
                    and _private(sub.attr)
                ):
                    names.add(sub.attr)
    return frozenset(names)


def mro_privates(klass: type) -> frozenset[str]:
    """The private names of the Textual classes in ``klass``'s MRO (empty if it has none)."""
    names: set[str] = set()
    for base in klass.__mro__:
        if _in_library(base.__module__):
            names |= textual_class_privates(base)
    return frozenset(names)


def _owner(klass: type | None, name: str) -> str:
    """The Textual class in ``klass``'s MRO that defines the private ``name``."""
    for base in klass.__mro__ if klass is not None else ():
        if _in_library(base.__module__) and name in textual_class_privates(base):
            return base.__name__
    return "?"


@dataclass
class _Module:
    rel: str
    tree: ast.Module
    #: our classes by qualified name, for those that could be imported
    classes: dict[str, type] = field(default_factory=dict)


def _modules(root: Path, package: str) -> list[_Module]:
    modules = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        tree = _parsed(str(path))
        module = _Module(rel, tree)
        if path.name != "__main__.py" and any(isinstance(n, ast.ClassDef) and n.bases for n in ast.walk(tree)):
            dotted = ".".join((package, *path.relative_to(root).with_suffix("").parts))
            loaded = importlib.import_module(dotted.removesuffix(".__init__"))
            for qualname in _class_nodes(tree):
                obj: object = loaded
                for part in qualname.split("."):
                    obj = getattr(obj, part, None)
                if isinstance(obj, type):
                    module.classes[qualname] = obj
        modules.append(module)
    return modules


def _own_names(modules: list[_Module]) -> set[str]:
    """Private names our code defines, less those our Textual subclasses define over a Textual private."""
    names: set[str] = set()
    for module in modules:
        names |= _defined_names(module.tree, any_receiver=False)
    for module in modules:
        for qualname, klass in module.classes.items():
            names -= _defined_names(_class_nodes(module.tree)[qualname]) & mro_privates(klass)
    return names


class _Finder(ast.NodeVisitor):
    def __init__(self, module: _Module, own: set[str]) -> None:
        self.module = module
        self.own = own
        self.library = library_private_names()
        self.found: list[tuple[int, str]] = []
        self.classes: list[type | None] = []
        self.qualname: list[str] = []

    def _add(self, node: ast.AST, what: str) -> None:
        self.found.append((getattr(node, "lineno", 0), what))

    def _privates_of_self(self) -> frozenset[str] | None:
        """The MRO privates of the class ``self`` is in; None outside a class (or one we could not import)."""
        for klass in reversed(self.classes):
            return None if klass is None else mro_privates(klass)
        return None

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.qualname.append(node.name)
        klass = self.module.classes.get(".".join(self.qualname))
        self.classes.append(klass)
        privates = mro_privates(klass) if klass is not None else frozenset()
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                defined = {stmt.name}
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                defined = {t.id for t in targets if isinstance(t, ast.Name)}
            else:
                continue
            for name in sorted(defined & privates):
                self._add(stmt, f"{node.name}.{name} overrides Textual's private {_owner(klass, name)}.{name}")
        self.generic_visit(node)
        self.classes.pop()
        self.qualname.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.qualname.append(node.name)
        self.qualname.append("<locals>")
        self.generic_visit(node)
        self.qualname.pop()
        self.qualname.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815 (the visitor's naming)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if _private_module(alias.name):
                self._add(node, f"imports the private module {alias.name}")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level == 0 and _in_library(module):
            if _private_module(module):
                self._add(node, f"imports from the private module {module}")
            for alias in node.names:
                if _private(alias.name):
                    self._add(node, f"imports the private {alias.name} from {module}")

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and _PRIVATE_MODULE.match(node.value):
            self._add(node, f"names the private module {node.value!r}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = node.attr
        if _private(name):
            receiver = node.value
            is_self = isinstance(receiver, ast.Name) and receiver.id in ("self", "cls")
            is_super = (
                isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name) and receiver.func.id == "super"
            )
            privates = self._privates_of_self() if is_self or is_super else None
            if privates is not None and privates:  # in a Textual subclass: Textual's names are Textual's
                if name in privates:
                    self._add(node, f"uses Textual's private {name} on {'super()' if is_super else receiver.id}")
            elif name in self.library and name not in self.own:
                self._add(node, f"uses Textual's private attribute {name}")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if (
            isinstance(func, ast.Name)
            and func.id in ("getattr", "setattr", "hasattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            name = node.args[1].value
            if _private(name) and name in self.library and name not in self.own:
                self._add(node, f"{func.id}() on Textual's private attribute {name}")
        self.generic_visit(node)


def findings(root: Path = PACKAGE, package: str = "seedream_tui") -> Iterator[str]:
    """``rel:line: what`` for each private use of Textual outside the compatibility module."""
    modules = _modules(root, package)
    own = _own_names(modules)
    for module in modules:
        if module.rel == COMPAT:
            continue
        finder = _Finder(module, own)
        finder.visit(module.tree)
        for line, what in sorted(set(finder.found)):
            yield f"{module.rel}:{line}: {what}"


def test_product_code_names_no_private_textual_part_outside_compat() -> None:
    assert (PACKAGE / COMPAT).is_file()
    found = list(findings())
    assert found == [], "\n".join(found)
    # the global compositor patch went with the DataTable subclass (the job table is a Line-API ScrollView)
    assert not (PACKAGE / "tui" / "partial_updates.py").exists()


def test_the_scan_finds_each_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each kind of private use is found in a made-up package, and the lookalikes are not."""
    root = tmp_path / "scanpkg_compat"
    (root / "tui").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "tui" / "__init__.py").write_text("")
    (root / "tui" / "compat.py").write_text("from textual._border import BORDER_CHARS\n")
    (root / "tui" / "bad.py").write_text(
        "import importlib\n"  # 1
        "import textual._border\n"  # 2: private module
        "from textual.widgets import _toast\n"  # 3: private name from a Textual module
        "from textual_image._terminal import get_cell_size\n"  # 4: private module (textual-image)
        "from textual.app import App\n"  # 5
        "from textual.widget import Widget\n"  # 6
        "mod = importlib.import_module('textual._xterm_parser')\n"  # 7: private module by name
        "class Mine(App):\n"  # 8
        "    def _on_resize(self, event):\n"  # 9: overrides App._on_resize
        "        super()._on_resize(event)\n"  # 10: calls it
        "        self._driver.write('x')\n"  # 11: App._driver on self
        "        self._mine = 1\n"  # 12: ours
        "def f(app, node: Widget):\n"  # 13
        "    app._resize_event\n"  # 14: a Textual private on another object
        "    return getattr(node, '_closing')\n"  # 15: the same through getattr
        "class Plain:\n"  # 16
        "    def __init__(self):\n"  # 17
        "        self._bindings = {}\n"  # 18: ours, in a class that is not Textual's
        "    def g(self, other):\n"  # 19
        "        return self._bindings, other._mine\n"  # 20: ours
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    found = list(findings(root, "scanpkg_compat"))
    assert [f.split(":")[1] for f in found] == ["2", "3", "4", "7", "9", "10", "11", "14", "15"], found
    assert all(f.startswith("tui/bad.py:") for f in found), found
    assert "overrides Textual's private App._on_resize" in found[4], found


def main() -> int:
    found = list(findings())
    for line in found:
        print(line, file=sys.stderr)
    print(f"{len(found)} private use(s) of Textual outside {COMPAT}.", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
