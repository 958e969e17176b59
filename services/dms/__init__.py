"""排班管理 (DMS, scheduling): doctors' duty schedules, clinic sessions and their slot quotas."""
