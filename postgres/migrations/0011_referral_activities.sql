-- The timeline of a case also shows consent to share, referrals, tours,
-- move-ins and proposals (issue 5).
ALTER TABLE case_activities DROP CONSTRAINT case_activities_kind_check;
ALTER TABLE case_activities ADD CONSTRAINT case_activities_kind_check
    CHECK (kind IN ('call', 'note', 'email', 'status', 'edit', 'assign',
                    'consent', 'referral', 'tour', 'move_in', 'proposal'));
