# The scenario (a)/(b) addon for `mitmdump -s`: one response hook doing trivial work (set a
# header), the same work as hook.ts does in mitmts.


class BenchHook:
    def response(self, flow):
        flow.response.headers["x-bench"] = "1"


addons = [BenchHook()]
