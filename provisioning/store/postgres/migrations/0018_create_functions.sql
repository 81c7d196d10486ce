-- The two writes of a create as functions. A function's statements keep their plans for the
-- life of the server connection, so a call — a short statement to parse and plan — spares the
-- planning of the inserts inside, which unnamed statements (all that PgBouncer's transaction
-- pooling allows) would otherwise pay on every create. The functions hold no state and run as
-- the caller, on the tables of the caller's search_path.

-- A tenant and its configuration; none of them when the tenant's name key or external id is
-- taken. Returns how many tenants it inserted: 1, or 0 for a conflict.
CREATE FUNCTION provisioning_insert_tenant(
    p_id uuid, p_partner_id text, p_company_name text, p_name_key text, p_key_version integer,
    p_email text, p_phone_number text, p_industry text, p_external_id text, p_status text,
    p_metadata jsonb, p_version bigint, p_created_at timestamptz, p_updated_at timestamptz,
    p_deletion_scheduled_at timestamptz, p_config jsonb, p_config_version bigint,
    p_config_updated_at timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tenants (id, partner_id, company_name, name_key, key_version, email, phone_number,
        industry, external_id, status, metadata, version, created_at, updated_at, deletion_scheduled_at)
    VALUES (p_id, p_partner_id, p_company_name, p_name_key, p_key_version, p_email, p_phone_number,
        p_industry, p_external_id, p_status, p_metadata, p_version, p_created_at, p_updated_at,
        p_deletion_scheduled_at)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    INSERT INTO tenant_configs (tenant_id, partner_id, config, version, updated_at)
    VALUES (p_id, p_partner_id, p_config, p_config_version, p_config_updated_at);
    RETURN 1;
END
$$;

-- An event and its deliveries to the partner's enabled endpoints that take its type. Returns
-- the event's seq.
CREATE FUNCTION provisioning_append_event(
    p_id uuid, p_partner_id text, p_type text, p_tenant_id uuid, p_actor text, p_request_id text,
    p_created_at timestamptz, p_data jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_seq bigint;
BEGIN
    INSERT INTO webhook_deliveries (id, webhook_id, partner_id, event_id, event_type, state, attempts,
        next_attempt_at, created_at, updated_at)
    SELECT gen_random_uuid(), id, partner_id, p_id, p_type, 'pending', 0, p_created_at, p_created_at, p_created_at
    FROM webhooks
    WHERE partner_id = p_partner_id AND NOT disabled
        AND (events = '' OR (' ' || events || ' ') LIKE ('% ' || p_type || ' %'));
    INSERT INTO events (id, partner_id, type, tenant_id, actor, request_id, created_at, data)
    VALUES (p_id, p_partner_id, p_type, p_tenant_id, p_actor, p_request_id, p_created_at, p_data)
    RETURNING seq INTO v_seq;
    RETURN v_seq;
END
$$;
