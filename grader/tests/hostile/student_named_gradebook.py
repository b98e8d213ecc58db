"""A student folder named gradebook.csv (and one named class_report.md): were they graded, their
results folders would take the names of the class's gradebook and report. They are not usable
student ids; the class is graded and both files are written as usual. (This file only
documents the case; the test names the folders.)"""
