"""The forum calendar: sittings, reminders with agendas, decisions, actions and production-deployment notices."""
