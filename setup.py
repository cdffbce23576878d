"""For bench versions that predate pyproject.toml; pip itself builds from pyproject.toml."""

from setuptools import find_packages, setup

try:
	import tomllib
except ModuleNotFoundError:  # Python 3.10; tomli is a Frappe dependency
	import tomli as tomllib

from press_selfhost import __version__

with open("pyproject.toml", "rb") as pyproject:
	project = tomllib.load(pyproject)["project"]

setup(
	name=project["name"],
	version=__version__,
	description=project["description"],
	packages=find_packages(include=["press_selfhost", "press_selfhost.*"]),
	include_package_data=True,
	zip_safe=False,
	install_requires=project["dependencies"],
)
