-- +goose Up
-- How to use a reward, said once it is redeemed; and partners' promo codes, a pool per item, each given
-- to one order only and kept in it (history shows it again). An item whose rewards are codes is in
-- stock while its pool has an unused code.
ALTER TABLE catalog_items
    ADD COLUMN how_to_ru text    NOT NULL DEFAULT '',
    ADD COLUMN how_to_en text    NOT NULL DEFAULT '',
    ADD COLUMN coded     boolean NOT NULL DEFAULT false;

CREATE TABLE promo_codes (
    item_code text   NOT NULL REFERENCES catalog_items (code),
    code      text   NOT NULL,
    order_id  bigint UNIQUE REFERENCES orders (id), -- NULL while unused
    PRIMARY KEY (item_code, code)
);
CREATE INDEX promo_codes_unused_idx ON promo_codes (item_code) WHERE order_id IS NULL;

ALTER TABLE orders ADD COLUMN promo_code text;

-- +goose Down
ALTER TABLE orders DROP COLUMN promo_code;
DROP TABLE promo_codes;
ALTER TABLE catalog_items DROP COLUMN how_to_ru, DROP COLUMN how_to_en, DROP COLUMN coded;
