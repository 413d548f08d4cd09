#!/usr/bin/env python3
"""Runs every shell command README.md shows on a fresh clone of HEAD, as a newcomer would (see readme-check.sh).

The README is the source. Every fenced block whose language is empty, bash, sh, shell or console is a shell block and
needs a directive in the HTML comment right before its fence (the comment may span lines):

    <!-- readme-check: skip "REASON" -->                 the whole block is not run (needs the network, a benchmark, ...)
    <!-- readme-check: expect "REGEX" expect "REGEX" -->  one item per command of the block, in order; an item is
                                                        expect "REGEX" (run it: exit status 0 and a line of its
                                                        stdout+stderr matching the Python regex) or skip "REASON"

A command is a logical line of the block (backslash continuations joined); blank lines and lines starting with `#` are
not commands. A block with no directive, or with as many items as it has commands, fails the check. Other fenced
blocks may carry `<!-- readme-check: file NAME -->` (the block is written verbatim to NAME in the clone, where the
README says to save it) or `<!-- readme-check: downstream-pom -->` (the XML goes verbatim into the pom of a
throw-away downstream project whose source is the README's Example.java; built against this build's artifacts
and run on the tiny fixture after the README's blocks).

Inline code spans that are commands (`./navil4j verify fixtures/...`, `curl -s ...`, `mvn ...`, `java ...`) must also
appear in some marked shell block (a span that is a synopsis, with `[`, `|`, `...` or a placeholder in capitals such
as DIR, MODEL, FILE, is not a command). So a command added to the README without a check fails here.

Commands run with bash in the clone's root. `./navil4j serve ... --port P` commands are started in the background,
waited for until GET /health answers, and left running for the following commands (the README's "the server above");
a later serve on the same port replaces it; all are stopped at the end. Two substitutions keep parallel runs apart:
every README port P (the ones given to `--port`) becomes a free port, everywhere in every command, and `/tmp/` becomes a
scratch directory of this run.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SHELL_LANGS = {"", "bash", "sh", "shell", "console"}
COMMAND_PREFIXES = ("./navil4j ", "spark/navil4j-spark-batch ", "curl ", "mvn ", "java ", "/usr/lib/jvm/",
                    "JAVA_HOME=", "python3 ", "scripts/", "echo ", "printf ")
COMMAND_TIMEOUT_S = 600
SERVER_START_TIMEOUT_S = 180


class Block:
    def __init__(self, line, lang, text, directive):
        self.line, self.lang, self.text, self.directive = line, lang, text, directive

    def commands(self):
        """Logical lines (continuations joined), without blank and comment-only lines, each with its README line."""
        out, pending, start = [], "", None
        for i, raw in enumerate(self.text.split("\n")):
            if start is None:
                start = self.line + 1 + i
            if raw.rstrip().endswith("\\"):
                pending += raw.rstrip()[:-1] + " "
                continue
            full = (pending + raw).strip()
            pending = ""
            if full and not full.startswith("#"):
                out.append((start, full))
            start = None
        return out


DIRECTIVE = re.compile(r"<!--\s*readme-check:(.*)-->$", re.S)
ITEM = re.compile(r'\s*(expect|skip)\s+"((?:[^"\\]|\\.)*)"')


def parse(readme_text):
    """(blocks, prose) of the README: its fenced blocks with the directive before each, the text outside them."""
    lines = readme_text.split("\n")
    blocks, prose, i = [], [], 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m:
            prose.append((i + 1, lines[i]))
            i += 1
            continue
        start = i
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        before = "\n".join(lines[:start]).rstrip()
        d = DIRECTIVE.match(before[before.rfind("<!--"):]) if before.endswith("-->") else None
        directive = d.group(1).strip() if d else None
        blocks.append(Block(start + 1, m.group(1), "\n".join(lines[start + 1:j]), directive))
        i = j + 1
    return blocks, prose


def items(block):
    """The directive's (kind, argument) items; raises ValueError on anything else."""
    rest, out = block.directive, []
    while rest.strip():
        m = ITEM.match(rest)
        if not m:
            raise ValueError(f"README line {block.line}: cannot read the directive at '{rest.strip()[:40]}'"
                             ' (expect "REGEX" or skip "REASON")')
        out.append((m.group(1), m.group(2).replace('\\"', '"')))
        rest = rest[m.end():]
    return out


def is_synopsis(span):
    """A usage line rather than a command: brackets, alternatives, ellipses or capitalised placeholders (quoted
    arguments, such as JSON bodies, do not count)."""
    bare = re.sub(r"'[^']*'|\"[^\"]*\"", "", span)
    return bool(re.search(r"\[|\||\.\.\.|…|\b(?!HF_|JAVA_HOME|NAVIL4J_)[A-Z][A-Z_]+\b(?!=)", bare))


def is_command(span):
    """An inline span that a reader would type: a known command word with arguments (`./navil4j chat` alone names a
    subcommand), not a synopsis."""
    words = span.split()
    if not span.startswith(COMMAND_PREFIXES) or is_synopsis(span):
        return False
    return len(words) >= (3 if span.startswith(("./navil4j ", "spark/")) else 2)


def plan(readme_text):
    """Checks the README's marks; returns (steps, problems). A step is (block, commands with their items)."""
    blocks, prose = parse(readme_text)
    steps, problems, fenced = [], [], []
    for b in blocks:
        if b.lang in SHELL_LANGS:
            cmds = b.commands()
            fenced.extend(" ".join(c.split()) for _, c in cmds)
            if b.directive is None:
                problems.append(f"README line {b.line}: a shell block without a <!-- readme-check: ... --> directive"
                                f" (first command: {cmds[0][1][:70] if cmds else '(none)'})")
                continue
            try:
                its = items(b)
            except ValueError as e:
                problems.append(str(e))
                continue
            if len(its) == 1 and its[0][0] == "skip":
                its = its * len(cmds)
            if len(its) != len(cmds):
                problems.append(f"README line {b.line}: {len(cmds)} commands but {len(its)} expect/skip items")
                continue
            steps.append((b, list(zip(cmds, its))))
        elif b.directive:
            steps.append((b, []))
    text = "\n".join(t for _, t in prose)
    line_of = [n for n, t in prose for _ in range(len(t) + 1)]  # character offset -> README line
    for m in re.finditer(r"`([^`]+)`", text):
        s, n = " ".join(m.group(1).split()), line_of[m.start()]
        if not is_command(s):
            continue
        if not any(s in f for f in fenced):
            problems.append(f"README line {n}: the command `{s[:80]}` is in no marked shell block"
                            " (put it in one with an expect, or a skip with the reason)")
    return steps, problems


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Runner:
    def __init__(self, clone, scratch, env, m2):
        self.clone, self.scratch, self.env, self.m2 = clone, scratch, env, m2
        self.ports = {}
        self.servers = {}  # README port -> (Popen, log path)
        self.failures = 0
        self.ran = self.skipped = 0
        self.logs = os.path.join(scratch, "logs")
        os.makedirs(self.logs, exist_ok=True)

    def substitute(self, cmd):
        for p in re.findall(r"--port[ =](\d+)", cmd):
            self.ports.setdefault(p, str(free_port()))
        for readme_port, port in self.ports.items():
            cmd = re.sub(rf"(?<=[:= ]){readme_port}\b", port, cmd)
        return cmd.replace("/tmp/", self.scratch + "/")

    def report(self, ok, line, cmd, secs, output="", why=""):
        mark = "ok  " if ok else "FAIL"
        print(f"{mark} README:{line} ({secs:.1f} s) {cmd[:110]}{' ...' if len(cmd) > 110 else ''}", flush=True)
        if not ok:
            self.failures += 1
            print(f"     {why}")
            for l in output.strip().split("\n")[-15:]:
                print("     | " + l[:200])

    def run(self, line, cmd, expect):
        cmd = self.substitute(cmd)
        expect = self.substitute(expect)  # "serving ... on http://127.0.0.1:8080" names the README's port
        if re.search(r"\./navil4j serve\b", cmd):
            return self.start_server(line, cmd, expect)
        t0 = time.time()
        try:
            p = subprocess.run(["bash", "-c", cmd], cwd=self.clone, env=self.env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=COMMAND_TIMEOUT_S)
            out, rc = p.stdout.decode("utf-8", "replace"), p.returncode
        except subprocess.TimeoutExpired as e:
            out, rc = (e.stdout or b"").decode("utf-8", "replace"), "timeout"
        secs = time.time() - t0
        self.ran += 1
        if rc != 0:
            self.report(False, line, cmd, secs, out, f"exit status {rc}")
        elif not re.search(expect, out, re.M):
            self.report(False, line, cmd, secs, out, f"no line matches {expect!r}")
        else:
            self.report(True, line, cmd, secs)

    def start_server(self, line, cmd, expect):
        port = re.search(r"--port[ =](\d+)", cmd)
        if not port:
            self.report(False, line, cmd, 0, "", "a serve command needs --port for the check to find it")
            return
        port = port.group(1)
        readme_port = next(k for k, v in self.ports.items() if v == port)
        self.stop(readme_port)
        log = os.path.join(self.logs, f"serve-{readme_port}.log")
        t0 = time.time()
        p = subprocess.Popen(["bash", "-c", cmd], cwd=self.clone, env=self.env, stdin=subprocess.DEVNULL,
                             stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
        self.servers[readme_port] = (p, log)
        self.ran += 1
        up = False
        while time.time() - t0 < SERVER_START_TIMEOUT_S and p.poll() is None:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read()
                up = True
            except urllib.error.HTTPError:
                up = True  # it answers (an API key may be required)
            except OSError:
                time.sleep(0.3)
            if up:
                break
        out = open(log, encoding="utf-8", errors="replace").read()
        if not up:
            self.report(False, line, cmd, time.time() - t0, out,
                        "the server exited" if p.poll() is not None else "no answer on /health")
        elif not re.search(expect, out, re.M):
            self.report(False, line, cmd, time.time() - t0, out, f"no line matches {expect!r}")
        else:
            self.report(True, line, cmd + "   [started; stays up for what follows]", time.time() - t0)

    def stop(self, readme_port):
        entry = self.servers.pop(readme_port, None)
        if not entry:
            return
        p, _ = entry
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def stop_all(self):
        for port in list(self.servers):
            self.stop(port)

    def downstream(self, pom_xml, source, java25):
        """A throw-away project: the README's dependency XML as its pom, Example.java as its source; built offline
        against the artifacts this clone installs, run from the clone's root (the example's paths are relative)."""
        t0 = time.time()
        env = dict(self.env, JAVA_HOME=java25)
        installed = os.path.isdir(os.path.join(self.m2, "dev/navil4j/navil4j-core"))  # by the README's mvn install
        install = ["true"] if installed else ["mvn", "-o", "-q", "-B", "-Dmaven.test.skip=true",
                                              "-pl", "bom,core,video", "-am", "install"]
        inst = subprocess.run(install, cwd=self.clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if inst.returncode != 0:
            self.report(False, "-", "mvn install -pl bom,core,video -am", time.time() - t0,
                        (inst.stdout or b"").decode("utf-8", "replace"), "the clone's artifacts did not install")
            return
        proj = os.path.join(self.scratch, "downstream")
        os.makedirs(os.path.join(proj, "src/main/java"))
        shutil.copy(source, os.path.join(proj, "src/main/java/Example.java"))
        with open(os.path.join(proj, "pom.xml"), "w") as f:
            f.write(DOWNSTREAM_POM.replace("<!--README-->", pom_xml))
        build = subprocess.run(["mvn", "-o", "-q", "-B", "compile", "dependency:build-classpath",
                                "-Dmdep.outputFile=classpath.txt"], cwd=proj, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = build.stdout.decode("utf-8", "replace")
        if build.returncode != 0:
            self.report(False, "-", "downstream project: mvn compile", time.time() - t0, out, "it does not build")
            return
        cp = os.path.join(proj, "target/classes") + ":" + open(os.path.join(proj, "classpath.txt")).read().strip()
        jars = [os.path.basename(j) for j in cp.split(":")[1:]]
        run = subprocess.run([os.path.join(java25, "bin/java"), "--add-modules", "jdk.incubator.vector",
                              "--enable-native-access=ALL-UNNAMED", "-cp", cp, "Example"], cwd=self.clone, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=COMMAND_TIMEOUT_S)
        out = run.stdout.decode("utf-8", "replace")
        ok = run.returncode == 0 and re.search(r"\[\d+ tokens\]", out)
        self.ran += 1
        self.report(bool(ok), "-", f"downstream project (README pom + Example.java, {len(jars)} jars:"
                    f" {', '.join(j for j in jars if 'navil4j' in j)})", time.time() - t0, out,
                    "it did not print '[N tokens]' with exit status 0")


DOWNSTREAM_POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>example</groupId>
  <artifactId>readme-downstream</artifactId>
  <version>1</version>
  <properties>
    <maven.compiler.release>25</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
<!--README-->
  <build>
    <plugins>
      <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><version>3.14.0</version></plugin>
      <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>3.8.1</version></plugin>
    </plugins>
  </build>
</project>
"""


def java_major(java):
    out = subprocess.run([java, "-XshowSettings:properties", "-version"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT).stdout.decode()
    m = re.search(r"java\.specification\.version = (\d+)", out)
    return int(m.group(1)) if m else 0


def newcomer_env(scratch, m2):
    """The environment of a newcomer with JDK 17 as the default java: no JAVA_HOME, no other JDK on PATH;
    Maven's local repository a private one that holds everything the machine's has except navil4j's artifacts."""
    env = dict(os.environ)
    env.pop("JAVA_HOME", None)
    path = [p for p in env.get("PATH", "").split(":") if p and not p.startswith("/usr/lib/jvm/")]
    jdk17 = next((d for d in sorted(os.listdir("/usr/lib/jvm")) if os.path.isfile(f"/usr/lib/jvm/{d}/bin/java")
                  and java_major(f"/usr/lib/jvm/{d}/bin/java") == 17), None) if os.path.isdir("/usr/lib/jvm") else None
    if jdk17:
        path.insert(0, f"/usr/lib/jvm/{jdk17}/bin")
    env["PATH"] = ":".join(path)
    env["MAVEN_OPTS"] = (env.get("MAVEN_OPTS", "") + f" -Dmaven.repo.local={m2}").strip()
    env["NAVIL4J_HISTORY"] = "off"
    env.pop("NAVIL4J_JAVA_OPTS", None)
    return env, jdk17


def private_m2(root):
    """A local repository of links to the machine's ~/.m2 groups (offline builds still find every plugin and
    library), without dev/navil4j: what this run installs lands here, and the downstream project gets this build."""
    src = os.path.expanduser("~/.m2/repository")
    os.makedirs(root)
    for g in os.listdir(src) if os.path.isdir(src) else []:
        if g == "dev":
            os.makedirs(os.path.join(root, "dev"))
            for sub in os.listdir(os.path.join(src, "dev")):
                if sub != "navil4j":
                    os.symlink(os.path.join(src, "dev", sub), os.path.join(root, "dev", sub))
        else:
            os.symlink(os.path.join(src, g), os.path.join(root, g))
    return root


def main(argv):
    repo = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=os.path.dirname(os.path.abspath(__file__)),
                          stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    if "--list" in argv:  # the marks only: no clone, nothing run
        steps, problems = plan(open(os.path.join(repo, "README.md"), encoding="utf-8").read())
        for b, cmds in steps:
            for (line, c), (kind, arg) in cmds:
                print(f"README:{line} {kind:6} {arg[:40]!r:44} {c[:90]}")
        for p in problems:
            print("FAIL " + p)
        return 1 if problems else 0
    keep = "--keep" in argv
    t_start = time.time()
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    if subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                      stdout=subprocess.PIPE).stdout.strip():
        print("readme-check: note: the working tree has uncommitted changes; this checks the commit HEAD only")
    tmp = tempfile.mkdtemp(prefix="navil4j-readme-check-")
    clone, scratch = os.path.join(tmp, "navil4j"), os.path.join(tmp, "scratch")
    os.makedirs(scratch)
    runner = None
    try:
        subprocess.run(["git", "clone", "-q", "--no-checkout", repo, clone], check=True)
        subprocess.run(["git", "-c", "advice.detachedHead=false", "checkout", "-q", head], cwd=clone, check=True)
        readme = open(os.path.join(clone, "README.md"), encoding="utf-8").read()
        steps, problems = plan(readme)
        for p in problems:
            print("FAIL " + p)
        if problems:
            return 1
        m2 = private_m2(os.path.join(tmp, "m2"))
        env, jdk17 = newcomer_env(scratch, m2)
        java25 = "/usr/lib/jvm/temurin-25-jdk-amd64"
        print(f"readme-check: {head[:12]} cloned into {clone}; default java: "
              f"{('/usr/lib/jvm/' + jdk17) if jdk17 else 'as on PATH (no JDK 17 found)'}; JAVA_HOME unset", flush=True)
        runner = Runner(clone, scratch, env, m2)
        pom_xml = example = None
        for b, cmds in steps:
            if b.directive and b.lang not in SHELL_LANGS:
                d = b.directive.split()
                if d[0] == "file":
                    with open(os.path.join(clone, d[1]), "w", encoding="utf-8") as f:
                        f.write(b.text + "\n")
                    if d[1].endswith("Example.java"):
                        example = os.path.join(clone, d[1])
                elif d[0] == "downstream-pom":
                    pom_xml = b.text
                continue
            for (line, cmd), (kind, arg) in cmds:
                if kind == "skip":
                    runner.skipped += 1
                    print(f"skip README:{line} ({arg}) {cmd[:90]}")
                else:
                    runner.run(line, cmd, arg)
        runner.stop_all()
        if pom_xml and example:
            runner.downstream(pom_xml, example, java25)
        else:
            runner.report(False, "-", "downstream project", 0, "", "the README marks no downstream-pom block or"
                          " no Example.java file block")
        print(f"readme-check: {runner.ran} run, {runner.failures} failed, {runner.skipped} skipped in"
              f" {time.time() - t_start:.0f} s")
        return 1 if runner.failures else 0
    finally:
        if runner:
            runner.stop_all()
        if keep:
            print(f"readme-check: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
