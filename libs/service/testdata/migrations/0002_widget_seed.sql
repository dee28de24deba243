INSERT INTO widgets (id, name) VALUES (1, 'first');
