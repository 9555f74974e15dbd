-- +goose Up
-- A gift request carries its sender's idempotency key, as a redeem does (orders.request_key): a
-- retried request finds the gift it already made and moves nothing. Gifts made before keys have none.
ALTER TABLE gifts ADD COLUMN request_key text UNIQUE;

-- +goose Down
ALTER TABLE gifts DROP COLUMN request_key;
