"""No Django models: cdc_changelog and cdc_position are created by cdc/changelog.py, not by
migrations, because non-Django writers and the tailer own them. This module exists so that
Django sends post_migrate to the cdc app (it skips apps without a models module)."""
