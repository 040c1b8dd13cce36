"""Load mailbag's themes (themes/*.toml: colours and semantic variables) as Textual themes.

A theme file has top-level ``name`` and ``dark``, a ``[colors]`` table (Textual's base colours:
primary, background, ...) and a ``[variables]`` table of semantic colours (unread, flagged,
selected, quote-1, quote-2, quote-3, signature, status-ok, ...). Variables become CSS variables named
``$mailbag-<name>``; one a theme leaves out takes its value from ``DEFAULT_VARIABLES``.
"""

from __future__ import annotations

from pathlib import Path

from textual.theme import Theme

from mailbag.domain.config import ConfigError, KeyLines, load_toml

VARIABLE_PREFIX = "mailbag-"
_COLOR_KEYS = (
    "primary", "secondary", "warning", "error", "success", "accent",
    "foreground", "background", "surface", "panel", "boost",
)

#: Values used when a theme (e.g. one of Textual's built-ins) does not set a variable.
DEFAULT_VARIABLES: dict[str, str] = {
    "unread": "auto 95%",
    "read": "auto 80%",
    "flagged": "#e0a030",
    "selected": "#4a78b0 45%",
    "selected-blurred": "#808080 25%",
    "marked": "#c08a20 35%",
    "muted": "#888888",
    "header-label": "#4a90d9",
    "quote-1": "#42a942",
    "quote-2": "#47a5b8",
    "quote-3": "#cd70cd",
    "signature": "#8a93a3",
    "status-ok": "#4caf50",
    "status-busy": "#e0a030",
    "status-error": "#e05050",
}


def default_themes_dir() -> Path:
    """``<checkout>/themes`` when running from a source tree, else ``mailbag/themes`` when installed."""
    package_dir = Path(__file__).resolve().parent.parent
    for candidate in (package_dir.parent.parent / "themes", package_dir / "themes"):
        if candidate.is_dir():
            return candidate
    return package_dir / "themes"


class ThemeError(ConfigError, ValueError):
    """A malformed theme file; ``str(e)`` is ``"<file>:<line>: <key>: <problem>"``."""


class UnknownTheme(ValueError):
    """The configured theme is not among the themes found."""


def load_theme(path: Path) -> Theme:
    """Read one theme file; raise ThemeError naming the file, line and key on a malformed one."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise ThemeError(path, None, "", f"cannot read theme: {reason}") from None
    try:
        data = load_toml(text, path)
    except ConfigError as syntax:
        raise ThemeError(path, syntax.line, syntax.key, syntax.problem) from None
    lines = KeyLines(text)

    def error(key: tuple[str, ...], problem: str) -> ThemeError:
        return ThemeError(path, lines.line_of(key), ".".join(key), problem)

    colors = data.get("colors", {})
    variables = data.get("variables", {})
    if not isinstance(colors, dict) or "primary" not in colors:
        raise error(("colors",), "must set at least primary")
    unknown = sorted(set(colors) - set(_COLOR_KEYS))
    if unknown:
        raise error(("colors", unknown[0]), f"unknown colour (known: {', '.join(_COLOR_KEYS)})")
    if not isinstance(variables, dict):
        raise error(("variables",), "must be a table")

    def colour(key: str) -> str | None:
        return str(colors[key]) if key in colors else None

    return Theme(
        name=str(data.get("name", path.stem)),
        primary=str(colors["primary"]),
        secondary=colour("secondary"),
        warning=colour("warning"),
        error=colour("error"),
        success=colour("success"),
        accent=colour("accent"),
        foreground=colour("foreground"),
        background=colour("background"),
        surface=colour("surface"),
        panel=colour("panel"),
        boost=colour("boost"),
        dark=bool(data.get("dark", True)),
        variables={VARIABLE_PREFIX + str(k): str(v) for k, v in variables.items()},
    )


def load_themes(themes_dir: Path | None = None) -> dict[str, Theme]:
    """Every theme in the directory, by name."""
    directory = themes_dir or default_themes_dir()
    themes: dict[str, Theme] = {}
    for path in sorted(directory.glob("*.toml")):
        theme = load_theme(path)
        themes[theme.name] = theme
    return themes


def choose_theme(name: str, themes: dict[str, Theme]) -> Theme:
    """The theme called ``name``; UnknownTheme listing the available names when there is none."""
    try:
        return themes[name]
    except KeyError:
        available = ", ".join(sorted(themes)) or "(none found)"
        raise UnknownTheme(f"unknown theme {name!r}; available themes: {available}") from None


def variable_defaults() -> dict[str, str]:
    """Fallback values of mailbag's CSS variables, for themes that do not set them."""
    return {VARIABLE_PREFIX + k: v for k, v in DEFAULT_VARIABLES.items()}
