-- A signed-in person's language, chosen on their account page: a BCP 47 tag
-- of one of Huddle's languages (checked by the server), or NULL to follow
-- the browser. Signing in sets the language cookie from it.
ALTER TABLE accounts ADD COLUMN language TEXT CHECK (language IS NULL OR length(language) BETWEEN 2 AND 35);
