"""Metamorphic checks of the checks: each exercise's reference solution rewritten into equivalent forms
(how the model is called, functional or module API, a decorator or a `with`, where `zero_grad` goes,
`view`/`reshape`/`flatten`, `inference_mode`, constants at module level, how a generator is seeded...). Every rewrite must get the
reference's verdict: all checks pass. A rewrite is an `ast.NodeTransformer`; `variants(exercise)`
applies each one that changes the solution alone, then all of them together.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent


def _name(node: ast.AST) -> str:
    """`optimizer.zero_grad` for the function a call calls (empty when it is not a plain name chain)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _name(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def _expr(source: str) -> ast.expr:
    return ast.parse(source, mode="eval").body


class CallForward(ast.NodeTransformer):
    """`model(x)` and `self.layer(x)` become `model.forward(x)` / `self.layer.forward(x)` (taught by some
    courses; it skips hooks, so a grader that only watches hooks misses the call)."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        name = _name(node.func)
        if name == "model" or (name.startswith("self.") and name.count(".") == 1 and name[5:] in
                               ("conv1", "conv2", "fc1", "fc2", "pool", "dropout")):
            node.func = ast.Attribute(value=node.func, attr="forward", ctx=ast.Load())
        return node


class ZeroGradAfterStep(ast.NodeTransformer):
    """`optimizer.zero_grad()` moved from before backward to right after the step (and the scaler's update):
    the order of PyTorch's quickstart and AMP recipe, legal where each call leaves `.grad` clean."""

    def _move(self, body: list[ast.stmt]) -> list[ast.stmt]:
        zero = [s for s in body if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call)
                and _name(s.value.func).endswith("zero_grad")]
        ends = [i for i, s in enumerate(body) if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call)
                and _name(s.value.func) in ("optimizer.step", "scaler.step", "scaler.update")]
        if len(zero) != 1 or not ends:
            return body
        rest = [s for s in body if s is not zero[0]]
        last = max(i for i, s in enumerate(rest) if s is body[ends[-1]])
        return rest[:last + 1] + zero + rest[last + 1:]

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self.generic_visit(node)
        node.body = self._move(node.body)
        return node

    def visit_For(self, node: ast.For) -> ast.AST:
        self.generic_visit(node)
        node.body = self._move(node.body)
        return node


class SetToNone(ast.NodeTransformer):
    """`optimizer.zero_grad()` becomes `model.zero_grad(set_to_none=True)`: the model's own method."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if _name(node.func) == "optimizer.zero_grad" and not node.args:
            node.func = _expr("model.zero_grad")
            node.keywords = [ast.keyword(arg="set_to_none", value=ast.Constant(True))]
        return node


class NoGradDecorator(ast.NodeTransformer):
    """A function whose body ends in `with torch.no_grad():` gets `@torch.no_grad()` instead."""

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        blocks = [s for s in node.body if isinstance(s, ast.With) and len(s.items) == 1
                  and _name(getattr(s.items[0].context_expr, "func", None)) == "torch.no_grad"]
        if len(blocks) != 1:
            return node
        block = blocks[0]
        index = node.body.index(block)
        node.body = node.body[:index] + block.body + node.body[index + 1:]
        node.decorator_list.append(_expr("torch.no_grad()"))
        return node


class InferenceMode(ast.NodeTransformer):
    """`torch.no_grad()` becomes `torch.inference_mode()`."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if _name(node.func) == "torch.no_grad":
            node.func = _expr("torch.inference_mode")
        return node


class Reshape(ast.NodeTransformer):
    """`x.view(x.size(0), -1)` becomes `torch.flatten(x, start_dim=1)`, and other views `reshape`."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "view":
            if len(node.args) == 2 and ast.unparse(node.args[1]) == "-1":
                return ast.Call(func=_expr("torch.flatten"), args=[node.func.value],
                                keywords=[ast.keyword(arg="start_dim", value=ast.Constant(1))])
            node.func.attr = "reshape"
        return node


class TensorMethods(ast.NodeTransformer):
    """Functional calls as tensor methods and back: `F.relu(x)` -> `x.relu()`, `t.argmax(dim=1)` ->
    `torch.argmax(t, dim=1)`, `loss.item()` -> `float(loss)`, `.cpu()` -> `.to("cpu")`."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        name = _name(node.func)
        if name in ("F.relu", "torch.relu") and len(node.args) == 1:
            return ast.Call(func=ast.Attribute(value=node.args[0], attr="relu", ctx=ast.Load()), args=[], keywords=[])
        if isinstance(node.func, ast.Attribute) and node.func.attr == "argmax":
            return ast.Call(func=_expr("torch.argmax"), args=[node.func.value, *node.args], keywords=node.keywords)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "item" and not node.args:
            return ast.Call(func=ast.Name("float", ast.Load()), args=[node.func.value], keywords=[])
        if isinstance(node.func, ast.Attribute) and node.func.attr == "cpu" and not node.args:
            node.func.attr, node.args = "to", [ast.Constant("cpu")]
        return node


class TorchFunctions(ast.NodeTransformer):
    """Tensor methods as `torch` functions: `d.pow(2).sum(dim=-1).sqrt()` -> `torch.sqrt(torch.sum(torch.pow(d,
    2), dim=-1))`, `c.clamp(min=1)` -> `torch.clamp(c, min=1)` (the d2l book and NumPy habits write them so)."""

    METHODS = frozenset({"sum", "mean", "pow", "sqrt", "clamp", "exp", "log", "abs", "matmul", "unsqueeze",
                         "squeeze", "maximum", "minimum", "square", "sigmoid", "tanh"})  # not `where`: x.where(c, y) is where(c, x, y)
    NOT_TENSORS = frozenset({"torch", "F", "nn", "np", "math", "os", "random", "self", "ctx", "super"})

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if (isinstance(func, ast.Attribute) and func.attr in self.METHODS
                and not (isinstance(func.value, ast.Name) and func.value.id in self.NOT_TENSORS)
                and not _name(func.value).startswith(("torch.", "F.", "nn."))):
            return ast.Call(func=_expr(f"torch.{func.attr}"), args=[func.value, *node.args], keywords=node.keywords)
        return node


class DictCall(ast.NodeTransformer):
    """A dict display whose keys are all names, `{"model": m.state_dict(), "epoch": epoch}`, written as a call:
    `dict(model=m.state_dict(), epoch=epoch)` (as checkpointing scripts often do)."""

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        self.generic_visit(node)
        keys = [k.value if isinstance(k, ast.Constant) and isinstance(k.value, str) else None for k in node.keys]
        if not keys or not all(k is not None and k.isidentifier() for k in keys):
            return node
        return ast.Call(func=ast.Name("dict", ast.Load()), args=[],
                        keywords=[ast.keyword(arg=k, value=v) for k, v in zip(keys, node.values)])


class RequiresGradMethod(ast.NodeTransformer):
    """`for p in model.parameters(): p.requires_grad = False` becomes `model.requires_grad_(False)`, and
    `[p for p in model.parameters() if p.requires_grad]` becomes `filter(lambda p: p.requires_grad, ...)`
    (the fine-tuning tutorial loops; many training scripts use the method and the filter)."""

    def visit_For(self, node: ast.For) -> ast.AST:
        self.generic_visit(node)
        loop = ast.unparse(node.iter)
        if (isinstance(node.target, ast.Name) and loop.endswith(".parameters()") and len(node.body) == 1
                and isinstance(node.body[0], ast.Assign) and not node.orelse
                and ast.unparse(node.body[0].targets[0]) == f"{node.target.id}.requires_grad"):
            owner = node.iter.func.value  # type: ignore[attr-defined]
            call = ast.Call(func=ast.Attribute(value=owner, attr="requires_grad_", ctx=ast.Load()),
                            args=[node.body[0].value], keywords=[])
            return ast.Expr(call)
        return node

    def visit_ListComp(self, node: ast.ListComp) -> ast.AST:
        self.generic_visit(node)
        if len(node.generators) != 1 or len(node.generators[0].ifs) != 1:
            return node
        gen = node.generators[0]
        if (isinstance(gen.target, ast.Name) and ast.unparse(node.elt) == gen.target.id
                and ast.unparse(gen.ifs[0]) == f"{gen.target.id}.requires_grad"):
            test = ast.Lambda(args=ast.arguments(posonlyargs=[], args=[ast.arg(gen.target.id)], kwonlyargs=[],
                                                 kw_defaults=[], defaults=[]), body=gen.ifs[0])
            return ast.Call(func=ast.Name("filter", ast.Load()), args=[test, gen.iter], keywords=[])
        return node


class AutocastSpelling(ast.NodeTransformer):
    """`torch.autocast(device_type=d)` becomes `torch.amp.autocast(d)`; `torch.amp.GradScaler(d)` becomes
    `torch.amp.GradScaler(device=d)`."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        name = _name(node.func)
        if name == "torch.autocast":
            node.func = _expr("torch.amp.autocast")
            node.args = [k.value for k in node.keywords if k.arg == "device_type"] + node.args
            node.keywords = [k for k in node.keywords if k.arg != "device_type"]
        elif name == "torch.amp.GradScaler" and len(node.args) == 1:
            node.keywords, node.args = [ast.keyword(arg="device", value=node.args[0])], []
        return node


class ModuleLevelConstant(ast.NodeTransformer):
    """A function without parameters that returns an expression gets it computed once at import time:
    `DEVICE = torch.device(...)` at the top of the file, `return DEVICE` in the function (tutorials and
    training scripts choose the device this way)."""

    def visit_Module(self, node: ast.Module) -> ast.AST:
        body: list[ast.stmt] = []
        for statement in node.body:
            code = [s for s in getattr(statement, "body", []) if not (isinstance(s, ast.Expr) and
                                                                       isinstance(s.value, ast.Constant))]
            if (isinstance(statement, ast.FunctionDef) and not statement.args.args
                    and len(code) == 1 and isinstance(code[0], ast.Return)):
                constant = statement.name.upper().removeprefix("GET_")
                body.append(ast.Assign(targets=[ast.Name(constant, ast.Store())], value=code[0].value, lineno=0))
                statement.body = [ast.Return(ast.Name(constant, ast.Load()))]
            body.append(statement)
        node.body = body
        return node


class _WithImports(ast.NodeTransformer):
    """A rewrite that needs imports of its own: `imports` go at the top once it has `changed` something."""

    imports = ""
    changed = False

    def visit_Module(self, node: ast.Module) -> ast.AST:
        self.generic_visit(node)
        if self.changed:
            node.body[0:0] = ast.parse(self.imports).body
        return node


class ToTensorModule(_WithImports):
    """`TF.to_tensor(image)` becomes `transforms.ToTensor()(image)`, and `Image.open(p).convert("L")`
    becomes `ImageOps.grayscale(Image.open(p))`: the module and functional APIs of the same steps."""

    imports = "from torchvision import transforms\nfrom PIL import ImageOps\n"

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if _name(node.func) == "TF.to_tensor":
            node.func, self.changed = _expr("transforms.ToTensor()"), True
        elif (isinstance(node.func, ast.Attribute) and node.func.attr == "convert" and len(node.args) == 1
              and isinstance(node.args[0], ast.Constant) and node.args[0].value == "L"):
            self.changed = True
            return ast.Call(func=_expr("ImageOps.grayscale"), args=[node.func.value], keywords=[])
        return node


class PathlibJoin(_WithImports):
    """`os.path.join(a, b)` becomes `pathlib.Path(a) / b` (PIL and open() take paths as well as strings)."""

    imports = "import pathlib\n"

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if _name(node.func) == "os.path.join" and len(node.args) == 2:
            self.changed = True
            return ast.BinOp(left=ast.Call(func=_expr("pathlib.Path"), args=[node.args[0]], keywords=[]),
                             op=ast.Div(), right=node.args[1])
        return node


class GeneratorStatements(ast.NodeTransformer):
    """`g = torch.Generator().manual_seed(s)` in two statements (`g = torch.Generator()`, then
    `g.manual_seed(s)`, as PyTorch's reproducibility notes write it), `torch.manual_seed` spelled
    `torch.random.manual_seed`, and `random_split`'s `generator=` passed by position."""

    def visit_Assign(self, node: ast.Assign) -> ast.AST | list[ast.stmt]:
        self.generic_visit(node)
        value = node.value
        if (len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and isinstance(value, ast.Call)
                and isinstance(value.func, ast.Attribute) and value.func.attr == "manual_seed"
                and isinstance(value.func.value, ast.Call) and _name(value.func.value.func) == "torch.Generator"):
            name = node.targets[0].id
            seeded = ast.Expr(ast.Call(func=ast.Attribute(value=ast.Name(name, ast.Load()), attr="manual_seed",
                                                          ctx=ast.Load()), args=value.args, keywords=value.keywords))
            return [ast.Assign(targets=node.targets, value=value.func.value), seeded]
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        name = _name(node.func)
        if name == "torch.manual_seed":
            node.func = _expr("torch.random.manual_seed")
        elif name.endswith("random_split") and len(node.args) == 2:
            given = [k for k in node.keywords if k.arg == "generator"]
            if given:
                node.args.append(given[0].value)
                node.keywords = [k for k in node.keywords if k.arg != "generator"]
        return node


REWRITES: dict[str, Callable[[], ast.NodeTransformer]] = {
    "call_forward": CallForward, "zero_grad_after_step": ZeroGradAfterStep, "set_to_none": SetToNone,
    "no_grad_decorator": NoGradDecorator, "inference_mode": InferenceMode, "reshape": Reshape,
    "tensor_methods": TensorMethods, "torch_functions": TorchFunctions, "dict_call": DictCall,
    "requires_grad_method": RequiresGradMethod, "autocast_spelling": AutocastSpelling,
    "module_level_constant": ModuleLevelConstant, "to_tensor_module": ToTensorModule, "pathlib_join": PathlibJoin,
    "generator_statements": GeneratorStatements,
}


def _rewrite(source: str, names: list[str]) -> str:
    tree = ast.parse(source)
    for name in names:
        tree = REWRITES[name]().visit(tree)
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def variants(exercise: str, module_file: str) -> dict[str, str]:
    """name -> source: each rewrite that changes the exercise's reference solution, alone, and all of
    those together (`all`)."""
    source = (ROOT / "solutions" / exercise / module_file).read_text()
    plain = ast.unparse(ast.parse(source))
    found = {}
    for name in REWRITES:
        rewritten = _rewrite(source, [name])
        if ast.unparse(ast.parse(rewritten)) != plain:
            found[name] = rewritten
    if len(found) > 1:
        found["all"] = _rewrite(source, list(found))
    return found
