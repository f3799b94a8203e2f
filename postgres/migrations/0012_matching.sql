-- The hearing sheet as matching reads it (issue 5): what the text fields
-- cannot say. The budget, the preferred areas and the 住民票 municipality
-- stay text and are read by package matching; these two are choices.
ALTER TABLE cases
    -- facility.FeatureItems keys the family asks for (soft in the ranking).
    ADD COLUMN wished_features  text[] NOT NULL DEFAULT '{}',
    -- 要介護1・2 with the reasons a 特養 may admit them by 特例入所
    -- (要配慮個人情報, like the rest of the person's care data).
    ADD COLUMN tokuyo_exception boolean NOT NULL DEFAULT false;
