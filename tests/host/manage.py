#!/usr/bin/env python
"""A host platform that adopts the apps from the built wheel (tests/host/README.md)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
