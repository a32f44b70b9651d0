"""Why the window could not open, said before Qt tries (Qt itself aborts with a core dump).

On Linux the X11 plugin of Qt (``libqxcb.so``) needs a handful of system libraries that a minimal
installation lacks (``libxcb-icccm4``, ``libxcb-cursor0``, ...). Without them Qt prints a long
message and aborts the process, as it does when ``DISPLAY`` names an X server that does not
answer. :func:`display_problem` finds the missing libraries with ``ldd`` and tries the display with
libxcb first, and returns one readable paragraph (with the command that installs what is missing),
or None when there is nothing to say (not Linux, another platform plugin chosen, all is well).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

_NOT_FOUND = re.compile(r"^\s*(\S+)\s*=>\s*not found", re.MULTILINE)


def xcb_plugin() -> Path | None:
    """The Qt X11 platform plugin of the installed PySide6, if there is one."""
    try:
        import PySide6
    except ImportError:
        return None
    path = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return path if path.exists() else None


def run_ldd(path: Path) -> str | None:
    """``ldd``'s report on ``path``; None when ldd is missing or fails."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return None
    try:
        out = subprocess.run([ldd, str(path)], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout


def missing_libraries(ldd_output: str) -> list[str]:
    """Library names ``ldd`` reported as "not found", each once, in order."""
    return list(dict.fromkeys(_NOT_FOUND.findall(ldd_output)))


def debian_package(soname: str) -> str:
    """The usual Debian/Ubuntu package of a library: ``libxcb-icccm.so.4`` -> ``libxcb-icccm4``.

    The name without ``.so``, lower case, then the major version (after a hyphen when the name
    ends in a digit, as in ``libdbus-1.so.3`` -> ``libdbus-1-3``).
    """
    name, _, version = soname.partition(".so")
    name = name.lower()
    major = version.lstrip(".").split(".")[0]
    if not major:
        return name
    return f"{name}-{major}" if name[-1].isdigit() else f"{name}{major}"


def x_connect_error(display: str) -> int | None:
    """``xcb_connect``'s error code for ``display`` (0: it answers), or None without libxcb."""
    name = ctypes.util.find_library("xcb")
    if name is None:
        return None
    try:
        xcb = ctypes.CDLL(name)
    except OSError:
        return None
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.restype = ctypes.c_int
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)
    try:
        return int(xcb.xcb_connection_has_error(connection))
    finally:
        xcb.xcb_disconnect(connection)


def display_problem(
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    ldd: Callable[[Path], str | None] = run_ldd,
    plugin: Callable[[], Path | None] = xcb_plugin,
    connect: Callable[[str], int | None] = x_connect_error,
) -> str | None:
    """A message on why Qt's window cannot open here, or None when nothing stands in the way."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return None
    chosen = env.get("QT_QPA_PLATFORM", "")
    if chosen and not chosen.startswith("xcb"):
        return None  # offscreen, wayland, ...: the user picked it
    if not chosen and env.get("WAYLAND_DISPLAY"):
        return None  # Qt tries Wayland first
    if not env.get("DISPLAY"):
        return (
            "no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set). "
            "Start dlopt from a desktop session; without one, "
            "'QT_QPA_PLATFORM=offscreen dlopt --screenshot shot.png --steps 2000' still "
            "trains and saves a picture of the window."
        )
    path = plugin()
    report = ldd(path) if path is not None else None
    missing = missing_libraries(report) if report else []
    if not missing:
        if connect(env["DISPLAY"]):
            return (
                f"the window cannot open: the X display {env['DISPLAY']!r} does not answer "
                "(is the X server running, and may this user use it?). Without a display, "
                "'QT_QPA_PLATFORM=offscreen dlopt --screenshot shot.png --steps 2000' still "
                "trains and saves a picture of the window."
            )
        return None
    packages = " ".join(dict.fromkeys(debian_package(m) for m in missing))
    return (
        f"the window cannot open: Qt's X11 plugin needs system libraries that are missing "
        f"here ({', '.join(missing)}). On Debian or Ubuntu install them with "
        f"'sudo apt-get install {packages}' (other systems have packages of the same names), "
        f"then start dlopt again."
    )
