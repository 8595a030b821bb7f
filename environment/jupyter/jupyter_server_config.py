# Jupyter server settings of `sifd lab` (on JUPYTER_CONFIG_PATH only for the lab; see src/cli/commands/lab.ts).
#
# Notebooks are saved without outputs: running a tracked notebook in the lab and letting autosave
# run leaves the file in git unchanged, byte for byte. The executed copies with outputs are what
# `npm start` / `sifd notebooks run` write to out/notebooks/. SIFD_LAB_KEEP_OUTPUTS=1 turns this off.
import json
import os

# Cell metadata a front end adds while running cells; none of it belongs in the tracked file.
VOLATILE_CELL_METADATA = ("execution", "collapsed", "scrolled", "trusted")
# The file's bytes before each save, by path, so that a save changing nothing keeps them.
_before = {}


def _enabled():
    return os.environ.get("SIFD_LAB_KEEP_OUTPUTS") != "1"


def strip_outputs(model, path=None, contents_manager=None, **kwargs):
    """pre_save_hook: drop outputs, execution counts and run-time cell metadata; keep the file's language_info."""
    if not _enabled() or model.get("type") != "notebook" or model.get("content") is None:
        return
    nb = model["content"]
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        metadata = cell.get("metadata", {})
        for key in VOLATILE_CELL_METADATA:
            metadata.pop(key, None)
    os_path = contents_manager._get_os_path(path) if contents_manager is not None and path else None
    if not os_path or not os.path.isfile(os_path):
        return
    with open(os_path, "rb") as f:
        before = f.read()
    _before[os_path] = before
    try:
        on_disk = json.loads(before)
    except ValueError:
        return
    # The kernel reports its own language_info (tslab adds a version): the file's stays.
    old_info = on_disk.get("metadata", {}).get("language_info")
    if old_info is not None:
        nb.setdefault("metadata", {})["language_info"] = old_info


def keep_unchanged_bytes(model, os_path=None, contents_manager=None, **kwargs):
    """post_save_hook: a save whose notebook equals the file before it keeps the file's own bytes
    (its key order and formatting), with the new modification time the front end was told."""
    before = _before.pop(os_path, None)
    if not _enabled() or before is None or model.get("type") != "notebook":
        return
    with open(os_path, "rb") as f:
        after = f.read()
    try:
        same = json.loads(before) == json.loads(after)
    except ValueError:
        return
    if same and before != after:
        st = os.stat(os_path)
        with open(os_path, "wb") as f:
            f.write(before)
        os.utime(os_path, ns=(st.st_atime_ns, st.st_mtime_ns))


c = get_config()  # noqa: F821 (provided by Jupyter when it loads this file)
c.FileContentsManager.pre_save_hook = strip_outputs
c.FileContentsManager.post_save_hook = keep_unchanged_bytes
