"""Facts about the course itself, each defined once: where the library is installed from."""

REPOSITORY_URL = "https://github.com/emergence-course/emergence-in-neural-networks"
RELEASE = "v0.1.0"  # the git tag Colab installs the library from
INSTALL_SOURCE = f"emergence-lib @ git+{REPOSITORY_URL}@{RELEASE}"

# The first code cell of every chapter (kept identical by scripts/sync_notebooks.py).
COLAB_INSTALL_CELL = f'''# In Colab: install the course library (and nothing else). Here: nothing.
import subprocess
import sys

if "google.colab" in sys.modules:
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "{INSTALL_SOURCE}"], check=True)'''
