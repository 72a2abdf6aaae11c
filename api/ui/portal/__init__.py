"""Resident and business portal: permits and visitor parking for citizens. Built in #17."""
