from review_lint.diagnostics import Finding
from review_lint.rule import Rule


class AnyAssert(Rule):
    code = "RL900"
    name = "any-assert"

    def check(self, project):
        modules = project.judged_modules() if self.options["skip-tests"] else project.all_modules
        for module in modules:
            for function in module.facts.functions:
                for fact in function.asserts:
                    yield Finding(module.path, fact.span, f"{self.options['message']}: {fact.test}")


RULE = AnyAssert
