"""City profiles: everything city-specific, as data files validated on load.

A profile is a folder (``profile.yaml`` plus CSV/YAML parts, format in ``docs/profile.md``).
The Beijing profile ships in ``beijing/``; another city is another folder, not new code.
"""

from megacity.profiles.loader import check_profile, default_profile_path, load_profile

__all__ = ["check_profile", "default_profile_path", "load_profile"]
