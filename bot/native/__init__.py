"""The surfaces a chat platform offers around the slash commands: buttons on the bot's messages, messages kept
current in place, a Home for each person, forms that explain their errors field by field, message shortcuts, and
each person's language. Every one of them goes through the same core: a click or a filled-in form becomes a
`Command` in the inbox, and the permission matrix is asked again."""
