"""The `grade` command. Each command parses its arguments, calls one function, and maps problems to
exit codes: 0 all passed, 1 a check failed or the submission could not run, 2 usage or a broken
exercise definition. This process never imports torch; only the grading process does."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from grader.course import Course, course_for
from grader.glossary import GLOSSARY_URL_ENV
from grader.languages import gettext as _
from grader.languages import ngettext
from grader.progress import Progress, next_hint, record_results
from grader.yamlfile import SpecError

FORMAT = click.Choice(["text", "markdown", "json", "html", "junit", "classroom", "gradescope"])


class DefinitionError(click.ClickException):
    """A course file (exercise YAML, glossary term) is broken: every problem, one per line."""

    exit_code = 2

    def __init__(self, error: SpecError):
        super().__init__(ngettext("%(n)s problem in the course files:", "%(n)s problems in the course files:",
                                  len(error.problems)) + f"\n{error}")

    def format_message(self) -> str:
        return self.message


def _course(ctx: click.Context) -> Course:
    obj = ctx.ensure_object(dict)
    if "course" not in obj:
        obj["course"] = course_for(obj.get("course_dir"), _language(ctx))
    return obj["course"]


def _language(ctx: click.Context) -> str:
    from grader.languages import choose

    return ctx.ensure_object(dict).get("language") or choose()


def _set_language(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(dict)["language"] = value


def language_option(command):  # noqa: ANN001, ANN201 - a Click command
    """`--lang`: the language of what the command says (default: $TORCHGRADE_LANG, then the locale, then English)."""
    from grader.languages import LANGUAGES

    return click.option("--lang", type=click.Choice(list(LANGUAGES)), callback=_set_language, expose_value=False,
                        is_eager=True, help="The language of the feedback: en or zh (default: $TORCHGRADE_LANG, then "
                                            "your locale, then English).")(command)


def _spec(ctx: click.Context, ref: str):  # noqa: ANN202 - an ExerciseSpec
    return _spec_in(_course(ctx), ref)


def _spec_in(course: Course, ref: str):  # noqa: ANN202 - an ExerciseSpec
    try:
        return course.resolve(ref)
    except SpecError as exc:
        raise DefinitionError(exc) from None


def _utf8_output() -> None:
    """Chinese feedback, glossary names and file paths print on any console: a stream that cannot write
    them (redirected on Windows, where it defaults to the ANSI code page, or a C locale) writes UTF-8.
    A Windows console itself takes Unicode already (Python writes to it with WriteConsoleW)."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(encoding="utf-8", errors="backslashreplace")
            except (ValueError, OSError):  # a stream already written to in another encoding
                pass


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@click.version_option(package_name="torchgrade")
@language_option
@click.option("--course", "course_dir", metavar="DIR", envvar="TORCHGRADE_COURSE",
              help="The course folder (holding exercises/ and glossary/). Default: found from here upwards.")
@click.pass_context
def main(ctx: click.Context, course_dir: str | None) -> None:
    """Grade PyTorch exercises and explain every mistake.

    \b
    grade list             the exercises, with your last scores
    grade show 3           the instructions of exercise 3
    grade exercise 3       grade your work on exercise 3
    grade quiz 6           answer quiz 6 in the terminal
    grade hint 3           one more hint for exercise 3
    grade glossary TERM    what a word used in the feedback means
    grade watch            grade again each time you save, exercise after exercise

    `grade` alone shows your progress and the next exercise to do.
    """
    ctx.ensure_object(dict)["course_dir"] = course_dir
    _utf8_output()
    if os.environ.get("TORCHGRADE_WORKERS"):
        from grader.runner.sandbox import BackendError, worker_backend

        try:
            worker_backend()
        except BackendError as exc:
            raise click.UsageError(_("%(problem)s (the worker backend; unset it to use this system's default).",
                                     problem=str(exc))) from None
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_exercises, fmt="text")
        from grader.watch import next_to_do

        course = _course(ctx)
        following = next_to_do(course.load_all(), _passed(course)())
        click.echo("\n" + (_("Next: exercise %(id)s, %(title)s. `grade show %(id)s` for its instructions, `grade "
                              "watch` to grade it each time you save.", id=following.id, title=following.title)
                            if following else _("Every exercise is done. Well played!")))


@main.command("list")
@language_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def list_exercises(ctx: click.Context, fmt: str) -> None:
    """List the exercises: number, slug, kind, title and your last score."""
    course = _course(ctx)
    try:
        specs = course.load_all()
    except SpecError as exc:
        raise DefinitionError(exc) from None
    progress = Progress.load(Progress.path_for(course.root))
    rows = []
    for spec in specs:
        entry = progress.exercises.get(spec.name)
        last = None if entry is None or entry.last_score is None else f"{entry.last_score:g}/{entry.max_score:g}"
        rows.append({"id": spec.id, "slug": spec.slug, "folder": spec.name, "kind": spec.kind, "title": spec.title,
                     "max_score": spec.max_score, "last": last})
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
    else:
        from grader.render import render_exercise_list, use_color

        click.echo(render_exercise_list(rows, use_color(sys.stdout.isatty()), _language(ctx)), nl=False)


PLATFORM_FORMATS = ("classroom", "gradescope")
HIDDEN_VISIBILITY = click.Choice(["hidden", "after_due_date", "after_published", "visible"])  # Gradescope's words


def limit_options(command):  # noqa: ANN001, ANN201 - a Click command
    """The limits and switches every grading command takes."""
    for option in reversed([
        click.option("--time-limit", type=click.FloatRange(min=0.1),
                     help="Seconds one check may run (default: the exercise's)."),
        click.option("--memory-limit", type=click.IntRange(min=16), help="MiB the code may use (default: the exercise's)."),
        click.option("--process-limit", type=click.IntRange(min=4),
                     help="Processes and threads the code may run at once (default: the exercise's)."),
        click.option("--no-cache", is_flag=True, help="Re-run the reference solution instead of using cached results."),
        click.option("--debug", is_flag=True, envvar="TORCHGRADE_DEBUG", help="Show the grader's internals when it fails."),
        click.option("--run-as-root", is_flag=True,
                     help="Where the grader runs as root and cannot run student code as an unprivileged user, run it "
                          "as root anyway (recorded in each result) instead of refusing. Only on a machine that "
                          "holds nothing else."),
        click.option("--checks-from", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="DIR",
                     help="Grade with the exercise definitions and checks in DIR (the grading copy from "
                          "`grade export classroom`, hidden checks included) instead of this course's own."),
    ]):
        command = option(command)
    return command


def grading_options(command):  # noqa: ANN001, ANN201 - a Click command
    """The options `grade exercise` and `grade all` share: report format, limits, where checks come from."""
    command = limit_options(command)
    for option in reversed([
        click.option("--format", "fmt", type=FORMAT, default="text", show_default=True,
                     help="text, markdown, json, html (a page to open in a browser), junit (JUnit XML), classroom "
                          "(GitHub Classroom's reporter), gradescope (results.json). With classroom or gradescope "
                          "the exit code is 0 once the result is written: the platform shows the verdict."),
        click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
                     help="Write the report to this file instead of the terminal."),
        click.option("--hidden-visibility", type=HIDDEN_VISIBILITY,
                     default="after_published", show_default=True,
                     help="Gradescope: when students see the result of a hidden check."),
        click.option("--student", metavar="NAME", help="Quizzes: whose numbers (default: $GITHUB_ACTOR, "
                                                       "$TORCHGRADE_STUDENT, or your login)."),
    ]):
        command = option(command)
    return command


def _options(time_limit: float | None, memory_limit: int | None, process_limit: int | None, no_cache: bool,
             debug: bool, student: str | None, run_as_root: bool = False):  # noqa: ANN202 - a GradingOptions
    from grader.submissions import GradingOptions

    return GradingOptions(time_s=time_limit, memory_mb=memory_limit, processes=process_limit, use_cache=not no_cache,
                          debug=debug, student=student, run_as_root=run_as_root)


def _grading_course(ctx: click.Context, checks_from: Path | None) -> Course:
    """Where exercise definitions and checks come from: this course, or the instructor's grading copy."""
    if checks_from is None:
        return _course(ctx)
    if not (checks_from / "exercises").is_dir():
        raise click.UsageError(_("--checks-from %(folder)s: no exercises/ folder in it. Pass the grading copy written "
                                 "by `grade export classroom --checks-out DIR`.", folder=checks_from))
    return Course(checks_from.resolve(), language=_language(ctx), glossary_url=os.environ.get(GLOSSARY_URL_ENV))


@main.command("exercise")
@language_option
@click.argument("ref", metavar="N")
@click.option("--submission", type=click.Path(exists=True, path_type=Path),
              help="Your file, or a folder holding your file(s). Default: your copy in exercises/NN-slug/.")
@grading_options
@click.pass_context
def exercise(ctx: click.Context, ref: str, submission: Path | None, fmt: str, output: Path | None,
             checks_from: Path | None, hidden_visibility: str, time_limit: float | None, memory_limit: int | None,
             process_limit: int | None, no_cache: bool, debug: bool, student: str | None, run_as_root: bool) -> None:
    """Grade exercise N (a number, a folder name like 03-training-loop, or a slug). A quiz is graded
    from its answers file, exercises/NN-slug/answers.yaml (or --submission)."""
    from grader.submissions import grade_exercise

    spec = _spec_in(_grading_course(ctx, checks_from), ref)
    own_copy = submission is None
    if checks_from is not None and submission is None:
        submission = _course(ctx).exercises_folder / spec.name  # the student's files, the instructor's checks
    if spec.kind == "quiz":
        from grader.quiz.grading import unknown_answers

        for unknown in unknown_answers(spec, submission):
            click.echo(_("warning: '%(id)s' in your answers file is not a question of this quiz; check its spelling "
                         "(`grade quiz %(quiz)s --show` lists the ids)", id=unknown, quiz=spec.id), err=True)
    result = grade_exercise(spec, submission, _options(time_limit, memory_limit, process_limit, no_cache, debug, student,
                                                       run_as_root))
    _report(ctx, result, own_copy, fmt, output, hidden_visibility)


@main.command("all")
@language_option
@click.argument("refs", nargs=-1, metavar="[N]...")
@click.option("--submissions", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="DIR",
              help="A handed-in folder: a copy of the course repository, NN-slug/ folders, or the files side by "
                   "side. Default: your own copies in exercises/.")
@grading_options
@click.pass_context
def grade_all(ctx: click.Context, refs: tuple[str, ...], submissions: Path | None, fmt: str, output: Path | None,
              checks_from: Path | None, hidden_visibility: str, time_limit: float | None, memory_limit: int | None,
              process_limit: int | None, no_cache: bool, debug: bool, student: str | None,
              run_as_root: bool) -> None:
    """Grade every exercise and quiz (or only N...): one result each, and the total. This is what one
    GitHub Classroom step or a Gradescope autograder runs."""
    from grader.submissions import grade_course

    grading = _grading_course(ctx, checks_from)
    try:
        specs = [grading.resolve(r) for r in refs] if refs else grading.load_all()
    except SpecError as exc:
        raise DefinitionError(exc) from None
    if submissions is None and checks_from is not None:
        submissions = _course(ctx).root

    def progress(result) -> None:  # noqa: ANN001 - each result as it comes, on stderr (the report is stdout's)
        from grader.render import status_word

        if fmt not in PLATFORM_FORMATS:
            click.echo("  " + _("%(exercise)s: %(score)s/%(max_score)s (%(status)s)", exercise=result.exercise,
                                score=f"{result.score:g}", max_score=f"{result.max_score:g}",
                                status=status_word(result.status, _language(ctx))), err=True)

    course_result = grade_course(specs, submissions, _options(time_limit, memory_limit, process_limit, no_cache, debug, student,
                                                                     run_as_root), progress)
    _report(ctx, course_result, submissions is None, fmt, output, hidden_visibility)


@main.command("batch")
@language_option
@click.argument("folder", metavar="DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("refs", nargs=-1, metavar="[N]...")
@click.option("--workers", type=click.IntRange(min=1), help="Submissions graded at once (default: the number of cores).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("grades.csv"), show_default=True,
              help="The gradebook: .csv (one row per student) or .json (also the class statistics). Every result "
                   "is also kept, the moment it is known, in the journal beside it (grades.records.jsonl).")
@click.option("--reports", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Write one feedback report per student there (STUDENT.md, or .html).")
@click.option("--report-format", type=click.Choice(["markdown", "html"]), default="markdown", show_default=True)
@click.option("--resume", is_flag=True, help="Go on with an interrupted batch: grade only what its journal lacks.")
@click.option("--shard", metavar="I/N", help="Grade only shard I of N of the students (split by id, the same on every "
                                             "machine); combine the shards' journals with `grade merge`.")
@limit_options
@click.pass_context
def batch(ctx: click.Context, folder: Path, refs: tuple[str, ...], workers: int | None, out: Path, reports: Path | None,
          report_format: str, resume: bool, shard: str | None, checks_from: Path | None, time_limit: float | None,
          memory_limit: int | None, process_limit: int | None, no_cache: bool, debug: bool, run_as_root: bool) -> None:
    """Grade a whole class: DIR holds one folder per student (named by the student's id) with their files
    for one or more exercises. Every exercise and quiz, or only N..."""
    from grader import batch as b

    grading = _grading_course(ctx, checks_from)
    try:
        specs = [grading.resolve(r) for r in refs] if refs else grading.load_all()
    except SpecError as exc:
        raise DefinitionError(exc) from None
    options = _options(time_limit, memory_limit, process_limit, no_cache, debug, None, run_as_root)
    graded = b.grade_class(folder, specs, options, out=out, workers=workers, resume=resume, shard=shard)
    _gradebook(ctx, graded.records, [s.name for s in specs], out, reports, report_format,
               graded_now=graded.graded_now, seconds=graded.seconds)


@main.command("merge")
@click.argument("journals", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The combined gradebook (.csv or .json); the combined journal goes beside it.")
@click.option("--reports", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Write one feedback report per student there.")
@click.option("--report-format", type=click.Choice(["markdown", "html"]), default="markdown", show_default=True)
@click.pass_context
def merge(ctx: click.Context, journals: tuple[Path, ...], out: Path, reports: Path | None, report_format: str) -> None:
    """Combine the journals of `grade batch --shard` runs (JOURNAL is a *.records.jsonl) into one gradebook."""
    from grader import batch as b

    records = [record for path in journals for record in b.Journal(path).read()]
    b.Journal(b.Journal.path_for(out)).replace_with(records)
    _gradebook(ctx, records, sorted({r.result.exercise for r in records}), out, reports, report_format)


def _gradebook(ctx: click.Context, records: list, exercises: list[str], out: Path, reports: Path | None,  # noqa: PLR0913
               report_format: str, graded_now: int | None = None, seconds: float = 0.0) -> None:
    """Write the gradebook (and the reports) from the journal's records; print the class summary."""
    from grader import batch as b
    from grader.render import use_color

    try:
        glossary = _course(ctx).glossary if reports is not None else None
    except (SpecError, click.ClickException):
        glossary = None
    summary = b.finish(records, exercises, out, reports, report_format, glossary, graded_now, seconds,
                       use_color(sys.stdout.isatty()))
    click.echo(summary, nl=False)
    click.echo(_("Gradebook written to %(out)s, reports to %(reports)s.", out=out, reports=reports) if reports
               else _("Gradebook written to %(out)s.", out=out), err=True)


def _report(ctx: click.Context, result, record: bool, fmt: str, output: Path | None,  # noqa: ANN001
            hidden_visibility: str = "after_published") -> None:
    """Record the score (for the student's own copy), print or write the report, publish it to GitHub
    Actions when running there, exit 0 or 1 (0 for a platform format: the platform shows the verdict)."""
    from grader.render import render_result, results_of, status_word, use_color

    course = _course(ctx)
    if record:
        record_results(course.root, results_of(result))
    try:
        glossary = course.glossary
    except SpecError:
        glossary = None
    if fmt == "classroom" and _on_github_actions():
        _publish_to_github(result, glossary)
        if output is None:  # the log shows the feedback; the JSON went to the step output
            ctx.exit(0)
    text = render_result(result, fmt, glossary, color=output is None and use_color(sys.stdout.isatty()),
                         hidden_visibility=hidden_visibility)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        click.echo(_("Score %(score)s/%(max_score)s (%(status)s); report written to %(output)s",
                     score=f"{result.score:g}", max_score=f"{result.max_score:g}",
                     status=status_word(result.status, _language(ctx)), output=output), err=True)
    else:
        click.echo(text, nl=False)
    ctx.exit(0 if result.passed or fmt in PLATFORM_FORMATS else 1)


def _on_github_actions() -> bool:
    import os

    return os.environ.get("GITHUB_ACTIONS") == "true" or bool(os.environ.get("GITHUB_OUTPUT"))


def _publish_to_github(result, glossary) -> None:  # noqa: ANN001
    """On a GitHub Actions run: the step output the Classroom reporter reads, the feedback on the run's
    summary page (glossary links to this commit's glossary), annotations on the student's lines, and the
    plain feedback in the step's log."""
    from grader.render import classroom, language_of, render_result, results_of

    link = classroom.summary_links()
    if link and glossary is not None and glossary.url is None:
        glossary.url = link
    payload = classroom.report(results_of(result), glossary)
    for command in classroom.publish(payload, render_result(result, "markdown", glossary),
                                     language=language_of(result)):
        click.echo(command)
    click.echo(render_result(result, "text", glossary), nl=False)


@main.command("quiz")
@language_option
@click.argument("ref", metavar="N")
@click.option("--student", metavar="NAME", help="Whose numbers (default: $GITHUB_ACTOR, $TORCHGRADE_STUDENT, "
                                                "or your login).")
@click.option("--show", is_flag=True, help="Print your questions, with your numbers, and stop.")
@click.option("--starter", is_flag=True, help="Instructors: print the empty answers file the quiz ships with.")
@click.pass_context
def quiz(ctx: click.Context, ref: str, student: str | None, show: bool, starter: bool) -> None:
    """Answer quiz N in the terminal: each answer is graded at once and explained.

    To hand in answers as a file instead (GitHub Classroom), fill exercises/NN-slug/answers.yaml and
    run `grade exercise N`."""
    from grader.quiz.grading import QuizError, student_identity, variants
    from grader.render import render_answers_starter, render_quiz_questions, use_color

    spec = _spec(ctx, ref)
    if spec.kind != "quiz":
        raise click.UsageError(_("exercise %(id)s (%(name)s) is not a quiz: grade it with `grade exercise %(id)s`",
                                 id=spec.id, name=spec.name))
    if starter:
        click.echo(render_answers_starter(spec), nl=False)
        return
    who = student_identity(student)
    if show:
        click.echo(render_quiz_questions(spec, who, variants(spec, who)), nl=False)
        return
    from grader.quiz.interactive import ask, said_score

    try:
        glossary = _course(ctx).glossary
    except SpecError:
        glossary = None
    try:
        result = ask(spec, who, glossary, use_color(sys.stdout.isatty()))
    except QuizError as exc:
        from grader.render.words import Messages

        raise click.ClickException(_("the quiz could not be prepared: %(problem)s",
                                     problem=Messages(None, _language(ctx)).say(exc.said))) from None
    record_results(_course(ctx).root, [result])
    click.echo("\n" + said_score(result, spec.language))
    ctx.exit(0 if result.passed else 1)


@main.command("watch")
@language_option
@click.argument("ref", metavar="[N]", required=False)
@click.option("--submission", type=click.Path(exists=True, path_type=Path),
              help="Watch this file or folder instead of your copy in exercises/NN-slug/.")
@click.option("--max-runs", type=click.IntRange(min=1), hidden=True)  # tests: stop after this many gradings
@click.pass_context
def watch(ctx: click.Context, ref: str | None, submission: Path | None, max_runs: int | None) -> None:
    """Grade exercise N each time you save it (default: the next one you have not passed): what changed,
    and the next check to fix. When it passes, on to the next exercise. Ctrl+C stops."""
    from grader.render import render_watch, use_color
    from grader.submissions import grade_exercise
    from grader.watch import Watch, next_to_do

    course = _course(ctx)
    try:
        specs, glossary = course.load_all(), course.glossary
    except SpecError as exc:
        raise DefinitionError(exc) from None
    spec = _spec(ctx, ref) if ref else next_to_do(specs, _passed(course)())
    if spec is None:
        click.echo(_("Every exercise is done. Well played!"))
        return
    color, options = use_color(sys.stdout.isatty()), _options(None, None, None, False, False, None)

    def grade_one(spec):  # noqa: ANN001, ANN202 - an ExerciseSpec; an ExerciseResult
        result = grade_exercise(spec, submission, options)
        if submission is None:
            record_results(course.root, [result])
        return result

    Watch(specs, submission, grade_one,
          say=lambda result, changes, following: click.echo(render_watch(result, changes, following, glossary, color,
                                                                          submission is None)),
          waiting=lambda spec: click.echo("\n" + _("Watching %(folder)s: save your work to grade it again (Ctrl+C "
                                                   "stops).", folder=submission or spec.folder) + "\n"),
          passed=_passed(course), max_runs=max_runs).run(spec)


def _passed(course: Course):  # noqa: ANN202 - the exercises passed so far, read afresh from the progress file
    return lambda: {name for name, entry in Progress.load(Progress.path_for(course.root)).exercises.items()
                    if entry.passed}


@main.command("show")
@language_option
@click.argument("ref", metavar="N")
@click.pass_context
def show(ctx: click.Context, ref: str) -> None:
    """Print the instructions of exercise N (the same Markdown as its README.md)."""
    from grader.render import render_exercise_page

    click.echo(render_exercise_page(_spec(ctx, ref), _course(ctx).glossary_url), nl=False)


@main.command("hint")
@language_option
@click.argument("ref", metavar="N")
@click.pass_context
def hint(ctx: click.Context, ref: str) -> None:
    """Show the next hint for exercise N (one more each time you ask)."""
    from grader.render import render_hints, use_color

    spec = _spec(ctx, ref)
    shown = next_hint(_course(ctx).root, spec.name, len(spec.hints)) if spec.hints else 0
    click.echo(render_hints(spec, shown, use_color(sys.stdout.isatty())), nl=False)


@main.command("glossary")
@language_option
@click.argument("term", required=False)
@click.option("--markdown", is_flag=True, help="Print the whole glossary as one Markdown page.")
@click.pass_context
def glossary(ctx: click.Context, term: str | None, markdown: bool) -> None:
    """Explain TERM, or list every term."""
    from grader.render import render_glossary_page, render_term, use_color

    try:
        terms = _course(ctx).glossary
    except SpecError as exc:
        raise DefinitionError(exc) from None
    color = use_color(sys.stdout.isatty())
    if markdown:
        click.echo(render_glossary_page(terms, _language(ctx)), nl=False)
    elif term is None:
        width = max(len(t.id) for t in terms.terms.values())
        for t in terms.terms.values():
            summary = t.said_in(_language(ctx)).summary
            click.echo(f"{click.style(t.id.ljust(width), fg='cyan') if color else t.id.ljust(width)}  {summary}")
    else:
        found = terms.find(term)
        if found is None:
            close = ", ".join(t.id for t in terms.suggestions(term))
            raise click.UsageError(_("no glossary term '%(term)s'. Close matches: %(close)s. `grade glossary` lists all.",
                                     term=term, close=close) if close else
                                   _("no glossary term '%(term)s'. `grade glossary` lists all.", term=term))
        click.echo(render_term(found, terms, color, _language(ctx)), nl=False)


@main.command("schema")
def schema() -> None:
    """Print the JSON Schema of exercise.yaml (kept in docs/exercise.schema.json for editors)."""
    from grader.spec import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@main.command("new")
@click.argument("kind", type=click.Choice(["exercise", "quiz"]))
@click.argument("slug")
@click.option("--title", help="The exercise's title (default: made from the slug).")
@click.pass_context
def new(ctx: click.Context, kind: str, slug: str, title: str | None) -> None:
    """Scaffold the next-numbered exercise (or quiz) SLUG, ready to edit and already valid.

    \b
    grade new exercise my-loop     exercises/NN-my-loop/ + solutions/NN-my-loop/
    grade validate my-loop         prove it: solution passes, starter fails, mutants caught"""
    from grader.authoring.new import ScaffoldError, new_exercise

    try:
        written = new_exercise(_course(ctx), "quiz" if kind == "quiz" else "code", slug, title)
    except ScaffoldError as exc:
        raise click.UsageError(str(exc)) from None
    except SpecError as exc:
        raise DefinitionError(exc) from None
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"Next: edit exercises/{written[0].parts[1]}/exercise.yaml, then `grade validate {slug}`.")


@main.command("validate")
@click.argument("refs", nargs=-1, metavar="[N]...")
@click.option("--static", is_flag=True, help="Only read the definitions (schema, concepts, checks vs tests, files).")
@click.option("--jobs", type=click.IntRange(min=1), default=4, show_default=True,
              help="Gradings run at once while proving an exercise.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--run-as-root", is_flag=True,
              help="Where the grader runs as root and cannot run code as an unprivileged user (the spawn backend), "
                   "run the starter, mutants and alternatives as root anyway instead of refusing them.")
@click.pass_context
def validate(ctx: click.Context, refs: tuple[str, ...], static: bool, jobs: int, fmt: str, run_as_root: bool) -> None:
    """Prove exercises right: every definition problem as path:line:col (exit 2), then, unless --static,
    grade the reference solution (twice), the starter (twice), every mutant and alternative (exit 1 on
    any problem: a failing solution, a passing starter, a mutant not caught by the checks it names, a
    flaky or slow check)."""
    course = _course(ctx)
    try:
        course.glossary
        specs = [course.resolve(r) for r in refs] if refs else course.load_all()
    except SpecError as exc:
        raise DefinitionError(exc) from None
    if static:
        for spec in specs:
            parts = ([f"{len(spec.questions)} questions"] if spec.kind == "quiz"
                     else [f"{len(spec.checks)} checks", f"{len(spec.mutants)} mutants"])
            click.echo(f"ok  {spec.name}: {', '.join(parts)}, {spec.max_score:g} points")
        return
    from dataclasses import asdict

    from grader.authoring.validate import validate as prove
    from grader.render import render_validation, use_color

    reports = prove(specs, jobs, run_as_root=run_as_root)
    if fmt == "json":
        click.echo(json.dumps([{**asdict(r), "ok": r.ok} for r in reports], indent=2))
    else:
        click.echo(render_validation(reports, use_color(sys.stdout.isatty())), nl=False)
    ctx.exit(0 if all(r.ok for r in reports) else 1)


@main.group("export")
def export() -> None:
    """Write a copy of the course for others: students, GitHub Classroom, Gradescope."""


@export.command("student")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--with-hidden-checks", is_flag=True,
              help="Include the hidden checks too (self-study courses; students can then read them).")
@click.option("--jobs", type=click.IntRange(min=1), default=4, show_default=True,
              help="Gradings run at once while recording the reference solution's answers.")
@click.option("--notebooks", is_flag=True, help="Each exercise as a notebook in its folder (train.ipynb, answers.ipynb) "
                                                "instead of its file: students work and are graded in Jupyter or Colab.")
@click.option("--course-url", metavar="URL", help="The Git repository of this copy, which the notebooks' set-up cell "
                                                  "clones on Colab (with --notebooks).")
@click.pass_context
def export_student_copy(ctx: click.Context, out: Path, with_hidden_checks: bool, jobs: int, notebooks: bool,
                        course_url: str | None) -> None:
    """Write the repository a student receives to OUT: exercises with starters and public checks, the
    glossary, the grader and a README, with the reference solution's recorded answers in place of its
    code. No solutions, mutants, alternatives or quiz keys; hidden checks only with --with-hidden-checks."""
    from grader.authoring.export import export_student

    click.echo(f"Recording the reference answers and writing {out} ...", err=True)
    made = _exporting(ctx, lambda course: export_student(course, out, with_hidden_checks=with_hidden_checks, jobs=jobs,
                                                         notebooks=notebooks, course_url=course_url))
    for name in made.exercises:
        count = made.recorded.get(name, 0)
        recorded = f", {count} recorded reference answer{'' if count == 1 else 's'}" if name in made.recorded else ""
        withheld = f", {len(made.withheld[name])} hidden checks left out" if name in made.withheld else ""
        notebook = f", as {made.notebooks[name]}" if name in made.notebooks else ""
        click.echo(f"  {name}{recorded}{withheld}{notebook}")
    click.echo(f"Wrote {len(made.files())} files to {out}. Students start with its README.md.")


@export.command("notebooks")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--course-url", metavar="URL", help="The Git repository of the course's student copy, which each "
                                                  "notebook's set-up cell clones on Colab.")
@click.pass_context
def export_notebook_files(ctx: click.Context, out: Path, course_url: str | None) -> None:
    """Write one notebook per exercise to OUT (03-training-loop.ipynb, ...): instructions, a set-up cell, the
    starter, a check cell (grader.check(3)) and a hint cell; a quiz's with answer cells. For Jupyter, Colab
    or an LMS; `grade exercise N --submission FILE.ipynb` grades one handed back."""
    from grader.authoring.notebooks import export_notebooks

    course = _course(ctx)
    taken = [p.name for p in out.glob("*.ipynb")] if out.is_dir() else []
    if taken:
        raise click.UsageError(_("%(folder)s holds notebooks already (%(names)s): choose a new folder, so that no "
                                 "student's work is written over.", folder=out, names=", ".join(sorted(taken)[:5])))
    try:
        written, left_out = export_notebooks(course, out, course_url)
    except SpecError as exc:
        raise DefinitionError(exc) from None
    for path in written:
        click.echo(f"  {path.name}")
    why = {"several-files": _("its code is in several files, and a notebook's cells cannot say which file each "
                              "belongs in"),
           "notebook-already": _("its starter is a notebook already (this copy was made with --notebooks)")}
    for name, reason in left_out.items():
        click.echo(_("  %(name)s left out: %(why)s", name=name, why=why[reason]), err=True)
    click.echo(ngettext("Wrote %(count)s notebook to %(out)s.", "Wrote %(count)s notebooks to %(out)s.", len(written),
                        count=len(written), out=out))


def pin_options(command):  # noqa: ANN001, ANN201 - a Click command
    """The PyTorch build a platform installs (default: the versions installed here, where the course was proven)."""
    command = click.option("--torchvision", "torchvision_version", metavar="VERSION",
                           help="torchvision version to install (default: the one installed here).")(command)
    return click.option("--torch", "torch_version", metavar="VERSION",
                        help="PyTorch version the platform installs, CPU build (default: the one installed here).")(command)


def _pins(torch_version: str | None, torchvision_version: str | None):  # noqa: ANN202 - a Pins
    from grader.authoring.classroom import Pins
    from grader.authoring.export import ExportError

    try:
        installed = Pins.installed() if not (torch_version and torchvision_version) else None
    except ExportError as exc:
        raise click.UsageError(str(exc)) from None
    return Pins(torch=torch_version or installed.torch, torchvision=torchvision_version or installed.torchvision)


def _exporting(ctx: click.Context, make):  # noqa: ANN001, ANN202
    """Run an export, mapping its problems to clear errors."""
    from grader.authoring.export import ExportError

    try:
        return make(_course(ctx))
    except ExportError as exc:
        raise click.UsageError(str(exc)) from None
    except SpecError as exc:
        raise DefinitionError(exc) from None


@export.command("classroom")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--checks-repo", metavar="OWNER/NAME",
              help="A private repository the workflow fetches the hidden checks from (with the secret "
                   "TORCHGRADE_CHECKS_TOKEN). Without it, every check ships in the student repository.")
@click.option("--checks-out", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="With --checks-repo: where to write the grading copy to push to that repository.")
@pin_options
@click.option("--jobs", type=click.IntRange(min=1), default=4, show_default=True,
              help="Gradings run at once while recording the reference solution's answers.")
@click.pass_context
def export_classroom_template(ctx: click.Context, out: Path, checks_repo: str | None, checks_out: Path | None,
                              torch_version: str | None, torchvision_version: str | None, jobs: int) -> None:
    """Write the GitHub Classroom template repository to OUT: the student copy plus
    .github/workflows/classroom.yml (one grading step per exercise, Classroom's reporter, a CPU-only
    PyTorch). Step by step: docs/classroom.md."""
    from grader.authoring.classroom import WORKFLOW, export_classroom

    pins = _pins(torch_version, torchvision_version)
    click.echo(f"Recording the reference answers and writing {out} ...", err=True)
    made = _exporting(ctx, lambda course: export_classroom(course, out, checks_repo=checks_repo,
                                                           grading_out=checks_out, pins=pins, jobs=jobs))
    click.echo(f"Wrote {len(made.files())} files to {out}, with {WORKFLOW} (torch {pins.torch}, "
               f"torchvision {pins.torchvision}, CPU build).")
    if checks_repo:
        click.echo(f"Wrote the grading copy (hidden checks, quiz keys) to {checks_out}: push it to the private "
                   f"repository {checks_repo}, and give the student repositories a read token for it as the "
                   "secret TORCHGRADE_CHECKS_TOKEN (docs/classroom.md).")
    else:
        click.echo("Every check ships in the student repository (no --checks-repo): students can read them.")


@export.command("gradescope")
@click.argument("zip_path", metavar="OUT.zip", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--hidden-visibility", type=HIDDEN_VISIBILITY,
              default="after_published", show_default=True, help="When students see the result of a hidden check.")
@pin_options
@click.option("--jobs", type=click.IntRange(min=1), default=4, show_default=True,
              help="Gradings run at once while recording the reference solution's answers.")
@click.pass_context
def export_gradescope_zip(ctx: click.Context, zip_path: Path, hidden_visibility: str, torch_version: str | None,
                          torchvision_version: str | None, jobs: int) -> None:
    """Build Gradescope's autograder zip: setup.sh and run_autograder at its root, the course (every
    check, recorded reference answers, quiz keys; no solution's code) under course/. Step by step:
    docs/gradescope.md."""
    from grader.authoring.gradescope import export_gradescope

    pins = _pins(torch_version, torchvision_version)
    click.echo(f"Recording the reference answers and writing {zip_path} ...", err=True)
    made = _exporting(ctx, lambda course: export_gradescope(course, zip_path, pins=pins,
                                                            hidden_visibility=hidden_visibility, jobs=jobs))
    size = zip_path.stat().st_size / 1e6
    click.echo(f"Wrote {zip_path} ({size:.1f} MB, {len(made.exercises)} exercises; torch {pins.torch} CPU build). "
               "Upload it in Gradescope's Configure Autograder page, on the Ubuntu 24.04 base image.")


if __name__ == "__main__":
    main(prog_name="grade")
