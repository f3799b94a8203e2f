-- The facility catalog. Open-data fields come from the MHLW import; costs,
-- acceptance, features and vacancies are kept by facilities (or demo data).
-- Sets are bitmasks whose bit positions are defined in package facility:
--   care_levels: bit 0 自立, 1 要支援1, 2 要支援2, 3 要介護1 … 7 要介護5
--   medical[i] (1-based, facility.MedicalItems order): 0 ×, 1 △ 要相談, 2 ○
--   features: bit i = facility.FeatureItems[i]
CREATE TABLE facilities (
    id               bigserial PRIMARY KEY,
    office_number    text UNIQUE CHECK (office_number ~ '^[0-9]{10}$'),
    type             text NOT NULL CHECK (type IN ('kaigo_yuryo', 'jutaku_yuryo', 'sakoju', 'group_home',
                                                   'tokuyo', 'chiiki_tokuyo', 'roken', 'iryoin', 'care_house')),
    name             text NOT NULL CHECK (name <> ''),
    kana             text NOT NULL DEFAULT '',
    operator         text NOT NULL DEFAULT '',
    corporate_number text NOT NULL DEFAULT '' CHECK (corporate_number = '' OR corporate_number ~ '^[0-9]{13}$'),
    pref_code        smallint NOT NULL CHECK (pref_code BETWEEN 1 AND 47),
    muni_code        text NOT NULL CHECK (muni_code ~ '^[0-9]{6}$'),
    address          text NOT NULL,
    building         text NOT NULL DEFAULT '',
    lat              double precision NOT NULL CHECK (lat BETWEEN 20 AND 46),
    lng              double precision NOT NULL CHECK (lng BETWEEN 122 AND 154),
    phone            text NOT NULL DEFAULT '',
    fax              text NOT NULL DEFAULT '',
    url              text NOT NULL DEFAULT '',
    capacity         integer NOT NULL DEFAULT 0 CHECK (capacity >= 0),
    opened_on        date,
    initial_cost     bigint CHECK (initial_cost >= 0),          -- NULL: unknown
    rent             bigint NOT NULL DEFAULT 0 CHECK (rent >= 0),
    management       bigint NOT NULL DEFAULT 0 CHECK (management >= 0),
    food             bigint NOT NULL DEFAULT 0 CHECK (food >= 0),
    utilities        bigint NOT NULL DEFAULT 0 CHECK (utilities >= 0),
    care_extra       bigint NOT NULL DEFAULT 0 CHECK (care_extra >= 0),
    other            bigint NOT NULL DEFAULT 0 CHECK (other >= 0),
    care_levels      smallint NOT NULL DEFAULT 0 CHECK (care_levels BETWEEN 0 AND 255),
    dementia         smallint NOT NULL DEFAULT 0 CHECK (dementia BETWEEN 0 AND 2),
    medical          smallint[] NOT NULL DEFAULT '{0,0,0,0,0,0,0,0,0,0,0,0,0,0}'
                     CHECK (cardinality(medical) = 14 AND 0 <= ALL (medical) AND 2 >= ALL (medical)),
    features         integer NOT NULL DEFAULT 0 CHECK (features >= 0),
    partner          boolean NOT NULL DEFAULT false,
    demo             boolean NOT NULL DEFAULT false,
    -- Columns facility staff have edited themselves: an import never overwrites them.
    edited_fields    text[] NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE facility_vacancies (
    facility_id  bigint NOT NULL REFERENCES facilities (id) ON DELETE CASCADE,
    room_type    text NOT NULL CHECK (room_type <> ''),
    available    integer NOT NULL CHECK (available >= 0),
    confirmed_at timestamptz NOT NULL,
    PRIMARY KEY (facility_id, room_type)
);

CREATE INDEX facilities_updated_at ON facilities (updated_at);

-- Every change is announced so that each running server refreshes its
-- in-memory index within seconds (the payload is the facility id).
-- A bulk load of new facilities (the demo seed's COPY, which sets
-- carematch.bulk_load for its transaction) is not announced row by row:
-- tens of thousands of notifications would cost more than the load, and the
-- servers' periodic reconcile (by updated_at) picks the new rows up.
CREATE FUNCTION notify_facility_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('carematch.bulk_load', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_TABLE_NAME = 'facilities' THEN
        PERFORM pg_notify('facility_changed', COALESCE(NEW.id, OLD.id)::text);
    ELSE
        PERFORM pg_notify('facility_changed', COALESCE(NEW.facility_id, OLD.facility_id)::text);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER facilities_notify AFTER INSERT OR UPDATE OR DELETE ON facilities
    FOR EACH ROW EXECUTE FUNCTION notify_facility_changed();
CREATE TRIGGER facility_vacancies_notify AFTER INSERT OR UPDATE OR DELETE ON facility_vacancies
    FOR EACH ROW EXECUTE FUNCTION notify_facility_changed();
