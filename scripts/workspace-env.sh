#!/usr/bin/env bash
# Placeholder until the sandbox workspace environment is built (see sandbox).
exit 0
