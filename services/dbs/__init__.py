"""数据中心 (DBS, data center): the hospital's master data — departments, doctors, price lists and catalogues.

Every entity here is a catalogue with the same surface (list, create, read, update, delete when unreferenced,
deactivate, activate); `service.py` holds the one generic catalogue service and its twelve configurations,
`api.py` registers the seven routes of each entity with that entity's own schemas.
"""
