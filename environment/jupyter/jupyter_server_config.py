# Jupyter server settings of `sifd lab` (on JUPYTER_CONFIG_PATH only for the lab; see src/cli/commands/lab.ts).
#
# Notebooks are saved without outputs: running a tracked notebook in the lab and letting autosave
# run leaves the file in git unchanged. The executed copies with outputs are what `npm start` /
# `sifd notebooks run` write to out/notebooks/. SIFD_LAB_KEEP_OUTPUTS=1 turns this off.
import os

# Cell metadata a front end adds while running cells; none of it belongs in the tracked file.
VOLATILE_CELL_METADATA = ("execution", "collapsed", "scrolled", "trusted")


def strip_outputs(model, **kwargs):
    """ContentsManager pre_save_hook: drop outputs, execution counts and run-time cell metadata."""
    if os.environ.get("SIFD_LAB_KEEP_OUTPUTS") == "1":
        return
    if model.get("type") != "notebook" or model.get("content") is None:
        return
    for cell in model["content"].get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        metadata = cell.get("metadata", {})
        for key in VOLATILE_CELL_METADATA:
            metadata.pop(key, None)


c = get_config()  # noqa: F821 (provided by Jupyter when it loads this file)
c.FileContentsManager.pre_save_hook = strip_outputs
