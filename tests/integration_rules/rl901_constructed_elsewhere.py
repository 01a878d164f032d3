from review_lint.diagnostics import Finding, Related
from review_lint.rule import Rule


class ConstructedElsewhere(Rule):
    code = "RL901"
    name = "constructed-elsewhere"

    def check(self, project):
        for module in project.all_modules:
            for function in module.facts.functions:
                for call in function.calls:
                    symbol = project.resolve(module, call.callee)
                    located = project.class_(symbol) if symbol is not None else None
                    if located is None or located[0].path == module.path:
                        continue
                    owner, cls = located
                    yield Finding(owner.path, cls.span, f"{cls.name} is constructed in {module.path}",
                                  [Related(module.path, call.span, "constructed here")])


RULE = ConstructedElsewhere
